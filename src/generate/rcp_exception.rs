//! `generate --rcp-exception`: the condition an identity-perimeter RCP (a `Deny` on
//! `sts:AssumeRole`, S3 or KMS unless `aws:PrincipalOrgID` / `aws:PrincipalAccount` is the
//! organization's) needs so that AoC's account is excepted, as a document to merge into the
//! denying statement. Never a wider perimeter: the Deny stays, and only AoC's account is left
//! out of it. `check --offline --rcp FILE` gives the whole policy with it merged.

use serde_json::{Value, json};

use crate::cli::GenerateFormat;
use crate::error::UsageError;
use crate::model::attachment::Attachment;
use crate::model::values::Values;

/// The condition block to merge, for AoC's account.
pub fn exception(aoc_account: &str) -> Value {
    json!({
        "Condition": {
            "StringNotEquals": {
                "aws:PrincipalAccount": [aoc_account]
            }
        }
    })
}

pub fn render(attachment: &Attachment, format: GenerateFormat) -> Result<String, UsageError> {
    let values = Values::from_attachment(attachment);
    let Some(principal) = values.aoc_principal.as_deref() else {
        return Err(UsageError::new(
            "--rcp-exception needs AoC's principal: give --aoc-principal ARN or --trust-policy FILE (the JSON the AoC page shows)",
        ));
    };
    let Some(account) = crate::arn::account_of(principal) else {
        return Err(UsageError(format!(
            "--rcp-exception: AoC's principal {principal} names no account"
        )));
    };
    let document = exception(&account);
    let pretty = serde_json::to_string_pretty(&document).unwrap_or_default();
    Ok(match format {
        GenerateFormat::Json => {
            json!({
                "aoc_principal": principal,
                "aoc_account": account,
                "merge_into": "the Deny statement of the RCP that draws the identity perimeter",
                "document": document,
            })
            .to_string()
                + "\n"
        }
        GenerateFormat::Text | GenerateFormat::Terraform => format!(
            "# The exception an identity-perimeter RCP needs for AoC's account {account} ({principal}).\n\
             # Merge it into the RCP's Deny statement that refuses AoC (sts:AssumeRole on the role, or\n\
             # S3/KMS): conditions of a statement must all hold for the Deny to apply, so AoC's account\n\
             # is left out and the perimeter stays for everyone else. When the statement already has\n\
             # StringNotEquals (or StringNotEqualsIfExists) on aws:PrincipalAccount, add {account} to\n\
             # its values instead. Never remove the Deny or replace the values with \"*\".\n\
             # `aoc-preflight check --offline --rcp [LEVEL=]FILE` gives the whole policy merged, and\n\
             # the `aws organizations update-policy` command that puts it in place.\n{pretty}\n"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exception_is_aocs_account_only() {
        let doc = exception("860559707280");
        assert_eq!(
            doc["Condition"]["StringNotEquals"]["aws:PrincipalAccount"],
            json!(["860559707280"])
        );
        assert!(!doc.to_string().contains('*'));
    }
}
