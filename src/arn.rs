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

/// A borrowed view of an ARN's fields. The policy engine reads the caller's and the
/// resource's ARN on every decision; parsing into an owned [`Arn`] there (five strings) was
/// the largest single cost of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnRef<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// What is wrong with a string that is not an ARN; [`Arn::from_str`] words it.
enum Malformed {
    Character(char),
    Shape,
    EmptyField,
}

fn split(s: &str) -> Result<ArnRef<'_>, Malformed> {
    // ARNs hold no white space or control characters; one that does is a copy-paste slip
    // (or an attempt to forge report lines).
    let clean = if s.is_ascii() {
        // Most ARNs: a byte scan, no UTF-8 decoding.
        !s.bytes()
            .any(|b| b.is_ascii_control() || b.is_ascii_whitespace())
    } else {
        !s.chars().any(|c| c.is_control() || c.is_whitespace())
    };
    if !clean {
        let c = s
            .chars()
            .find(|c| c.is_control() || c.is_whitespace())
            .unwrap_or(' ');
        return Err(Malformed::Character(c));
    }
    let mut parts = s.splitn(6, ':');
    let mut next = || parts.next();
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
        (next(), next(), next(), next(), next(), next())
    else {
        return Err(Malformed::Shape);
    };
    if partition.is_empty() || service.is_empty() || resource.is_empty() {
        return Err(Malformed::EmptyField);
    }
    Ok(ArnRef {
        partition,
        service,
        region,
        account,
        resource,
    })
}

impl<'a> ArnRef<'a> {
    /// The fields of `s` when it is an ARN (the same rules as [`Arn`]'s `FromStr`).
    pub fn parse(s: &'a str) -> Option<Self> {
        // Principals are often not ARNs at all (`*`, an account ID, a service name).
        if !s.starts_with("arn:") {
            return None;
        }
        split(s).ok()
    }

    /// The resource type: the part of the resource before the first `/` or `:`
    /// (`key`, `alias`, `role`, ...), or the whole resource when it has neither.
    pub fn resource_type(&self) -> &'a str {
        self.resource
            .split(['/', ':'])
            .next()
            .unwrap_or(self.resource)
    }

    /// The resource after its type prefix: `key/1234` gives `1234`, `role/path/name` gives
    /// `path/name`.
    pub fn resource_id(&self) -> &'a str {
        match self.resource.find(['/', ':']) {
            Some(i) => &self.resource[i + 1..],
            None => "",
        }
    }

    /// The last path component of the resource: a role's name without its path.
    pub fn resource_name(&self) -> &'a str {
        self.resource.rsplit('/').next().unwrap_or(self.resource)
    }

    /// The same ARN with owned fields.
    pub fn to_owned_arn(&self) -> Arn {
        Arn {
            partition: self.partition.to_string(),
            service: self.service.to_string(),
            region: self.region.to_string(),
            account: self.account.to_string(),
            resource: self.resource.to_string(),
        }
    }
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match split(s) {
            Ok(parts) => Ok(parts.to_owned_arn()),
            Err(Malformed::Character(c)) => Err(ArnError(format!(
                "`{}` is not an ARN: it contains {}",
                s.escape_default(),
                if c.is_whitespace() && !c.is_control() {
                    "white space".to_string()
                } else {
                    format!("the control character {}", c.escape_default())
                }
            ))),
            Err(Malformed::Shape) => Err(ArnError(format!(
                "`{s}` is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
            ))),
            Err(Malformed::EmptyField) => Err(ArnError(format!(
                "`{s}` is not an ARN: partition, service and resource must not be empty"
            ))),
        }
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
    /// The fields as a borrowed view.
    pub fn as_parts(&self) -> ArnRef<'_> {
        ArnRef {
            partition: &self.partition,
            service: &self.service,
            region: &self.region,
            account: &self.account,
            resource: &self.resource,
        }
    }

    /// See [`ArnRef::resource_type`].
    pub fn resource_type(&self) -> &str {
        self.as_parts().resource_type()
    }

    /// See [`ArnRef::resource_id`].
    pub fn resource_id(&self) -> &str {
        self.as_parts().resource_id()
    }

    /// See [`ArnRef::resource_name`].
    pub fn resource_name(&self) -> &str {
        self.as_parts().resource_name()
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
    account_in(principal).map(str::to_string)
}

/// [`account_of`] without allocating.
pub fn account_in(principal: &str) -> Option<&str> {
    if is_account_id(principal) {
        return Some(principal);
    }
    ArnRef::parse(principal)
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
