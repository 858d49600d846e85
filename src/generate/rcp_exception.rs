//! `generate --rcp-exception`: the condition an RCP statement that denies AoC's
//! `sts:AssumeRole` on the role (an identity perimeter on `aws:PrincipalOrgID` /
//! `aws:PrincipalAccount`, ...) needs so that AoC's principal is excepted, as a document to
//! merge into that statement. Never a wider perimeter: the Deny stays, and only AoC's
//! principal is left out of it, not IBM's whole shared account (AoC's principal only assumes
//! the role; its S3 and KMS requests are the role session's, inside the customer's account).
//! `check --offline --rcp FILE` gives the whole policy with it merged.

use serde_json::{Value, json};

use crate::cli::GenerateFormat;
use crate::error::UsageError;
use crate::model::attachment::Attachment;
use crate::model::values::Values;

/// The condition block to merge, for AoC's principal.
pub fn exception(aoc_principal: &str) -> Value {
    json!({
        "Condition": {
            "ArnNotLike": {
                "aws:PrincipalArn": [aoc_principal]
            }
        }
    })
}

/// What `--rcp-exception` prints: the document (standard output) and the explanation
/// (standard error, so that the output redirected to a file is the JSON alone).
pub struct Rendered {
    pub document: String,
    pub comments: String,
}

pub fn render(attachment: &Attachment, format: GenerateFormat) -> Result<Rendered, UsageError> {
    let values = Values::from_attachment(attachment);
    let Some(principal) = values.aoc_principal.as_deref() else {
        return Err(UsageError::new(
            "--rcp-exception needs AoC's principal: give --aoc-principal ARN or --trust-policy FILE (the JSON the AoC page shows)",
        ));
    };
    if crate::arn::account_of(principal).is_none() {
        return Err(UsageError(format!(
            "--rcp-exception: AoC's principal {principal} names no account"
        )));
    }
    let document = exception(principal);
    let pretty = serde_json::to_string_pretty(&document).unwrap_or_default();
    Ok(match format {
        GenerateFormat::Json => Rendered {
            document: json!({
                "aoc_principal": principal,
                "merge_into": "each Deny statement of an RCP that refuses AoC's sts:AssumeRole on the role",
                "document": document,
            })
            .to_string()
                + "\n",
            comments: String::new(),
        },
        GenerateFormat::Text | GenerateFormat::Terraform => Rendered {
            document: format!("{pretty}\n"),
            comments: format!(
                "# The exception an RCP statement that denies AoC's sts:AssumeRole needs for AoC's\n\
                 # principal {principal}. Merge it into each such Deny statement: conditions of a\n\
                 # statement must all hold for the Deny to apply, so AoC's principal is left out and\n\
                 # the statement stays for everyone else. When the statement already has ArnNotLike\n\
                 # (or ArnNotEquals, ...IfExists) on aws:PrincipalArn, add the ARN to its values\n\
                 # instead. Never remove the Deny or replace the values with \"*\".\n\
                 # `aoc-preflight check --offline --rcp [LEVEL=]FILE` gives the whole policy merged, and\n\
                 # the `aws organizations update-policy` command that puts it in place.\n"
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AOC: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";

    #[test]
    fn the_exception_is_aocs_principal_only() {
        let doc = exception(AOC);
        assert_eq!(
            doc["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            json!([AOC])
        );
        assert!(!doc.to_string().contains('*'));
        assert!(!doc.to_string().contains("aws:PrincipalAccount"));
    }
}
