//! Amazon Resource Names: parsing, display and the accessors the checks need.
//!
//! Pure string handling, no I/O. Format:
//! `arn:partition:service:region:account-id:resource`
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>). The resource part may
//! itself contain `:` and `/`, so only the first five separators split the ARN.

use std::fmt;
use std::str::FromStr;

/// The partitions AWS publishes; anything else is a typo rather than a new partition.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A parsed ARN. Fields are kept as written (ARN comparison is case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

/// Why a string is not an ARN; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArnError(pub String);

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // ARNs hold no white space or control characters; one that does is a copy-paste slip
        // (or an attempt to forge report lines).
        if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(ArnError(format!(
                "`{}` is not an ARN: it contains {}",
                s.escape_default(),
                if c.is_whitespace() && !c.is_control() {
                    "white space".to_string()
                } else {
                    format!("the control character {}", c.escape_default())
                }
            )));
        }
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return Err(ArnError(format!(
                "`{s}` is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
            )));
        }
        if parts[1].is_empty() || parts[2].is_empty() || parts[5].is_empty() {
            return Err(ArnError(format!(
                "`{s}` is not an ARN: partition, service and resource must not be empty"
            )));
        }
        Ok(Arn {
            partition: parts[1].to_string(),
            service: parts[2].to_string(),
            region: parts[3].to_string(),
            account: parts[4].to_string(),
            resource: parts[5].to_string(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl Arn {
    /// The resource type: the part of the resource before the first `/` or `:`
    /// (`key`, `alias`, `role`, ...), or the whole resource when it has neither.
    pub fn resource_type(&self) -> &str {
        self.resource
            .split(['/', ':'])
            .next()
            .unwrap_or(&self.resource)
    }

    /// The resource after its type prefix: `key/1234` gives `1234`, `role/path/name` gives
    /// `path/name`.
    pub fn resource_id(&self) -> &str {
        match self.resource.find(['/', ':']) {
            Some(i) => &self.resource[i + 1..],
            None => "",
        }
    }

    /// The last path component of the resource: a role's name without its path.
    pub fn resource_name(&self) -> &str {
        self.resource.rsplit('/').next().unwrap_or(&self.resource)
    }

    /// True when the account field is a 12-digit AWS account ID.
    pub fn has_valid_account(&self) -> bool {
        is_account_id(&self.account)
    }
}

/// True for a 12-digit AWS account ID.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account a principal string belongs to: an ARN's account field, or a bare account ID.
pub fn account_of(principal: &str) -> Option<String> {
    if is_account_id(principal) {
        return Some(principal.to_string());
    }
    principal
        .parse::<Arn>()
        .ok()
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_arn_with_path() {
        let arn: Arn = "arn:aws:iam::123456789012:role/service/aoc-access"
            .parse()
            .unwrap();
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.region, "");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource_type(), "role");
        assert_eq!(arn.resource_id(), "service/aoc-access");
        assert_eq!(arn.resource_name(), "aoc-access");
        assert_eq!(
            arn.to_string(),
            "arn:aws:iam::123456789012:role/service/aoc-access"
        );
    }

    #[test]
    fn resource_may_contain_colons() {
        let arn: Arn = "arn:aws:logs:us-east-1:123456789012:log-group:my:group"
            .parse()
            .unwrap();
        assert_eq!(arn.resource, "log-group:my:group");
        assert_eq!(arn.resource_type(), "log-group");
    }

    #[test]
    fn rejects_non_arns() {
        assert!("arn:aws:s3".parse::<Arn>().is_err());
        assert!(
            "aws:kms:us-east-1:123456789012:key/x:y"
                .parse::<Arn>()
                .is_err()
        );
        assert!(
            "arn:aws:kms:us-east-1:123456789012:"
                .parse::<Arn>()
                .is_err()
        );
    }

    #[test]
    fn rejects_white_space_and_control_characters() {
        assert!(
            "arn:aws:iam::123456789012:role/x\ny"
                .parse::<Arn>()
                .is_err()
        );
        assert!("arn:aws:iam::123456789012:role/x y".parse::<Arn>().is_err());
        assert!(
            "arn:aws:iam::123456789012:role/x\u{1b}[2K"
                .parse::<Arn>()
                .is_err()
        );
    }

    #[test]
    fn account_of_principal_forms() {
        assert_eq!(account_of("123456789012").as_deref(), Some("123456789012"));
        assert_eq!(
            account_of("arn:aws:iam::210987654321:root").as_deref(),
            Some("210987654321")
        );
        assert_eq!(account_of("s3.amazonaws.com"), None);
    }
}
