//! The condition keys AWS defines, for the namespaces the tool evaluates (`aws:`, `s3:`, `kms:`,
//! `sts:`), and the condition operators: what tells a misspelled key or operator from a real one.
//! AWS treats a key that does not exist like a key the request does not carry, and rejects a
//! policy with an operator it does not know. Pure; the list is data (`condition_keys.toml`,
//! with its sources).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Namespace {
    /// Required, so that a namespace without its source does not parse; read by the test.
    #[cfg_attr(not(test), allow(dead_code))]
    source: String,
    keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct KeyFile {
    aws: Namespace,
    s3: Namespace,
    kms: Namespace,
    sts: Namespace,
}

pub const CONDITION_KEYS_TOML: &str = include_str!("condition_keys.toml");

/// Real keys (lower-cased) and prefixes (lower-cased, ending in `/` or `:`), or nothing when the
/// embedded file does not parse (a build defect the unit test catches; then no key is called a
/// typo, the safe side).
struct Catalogue {
    keys: BTreeSet<String>,
    prefixes: Vec<String>,
    /// The keys as AWS writes them, for suggestions.
    written: Vec<String>,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let mut c = Catalogue {
        keys: BTreeSet::new(),
        prefixes: Vec::new(),
        written: Vec::new(),
    };
    if let Ok(file) = toml::from_str::<KeyFile>(CONDITION_KEYS_TOML) {
        for key in [file.aws, file.s3, file.kms, file.sts]
            .into_iter()
            .flat_map(|n| n.keys)
        {
            let lower = key.to_ascii_lowercase();
            if lower.ends_with('/') || lower.ends_with(':') {
                c.prefixes.push(lower);
            } else {
                c.keys.insert(lower);
                c.written.push(key);
            }
        }
    }
    c
});

/// The namespaces the catalogue covers.
const COVERED: &[&str] = &["aws:", "s3:", "kms:", "sts:"];

/// Whether `key` is a condition key AWS defines: `Some(false)` for a key in a covered namespace
/// that AWS does not define, `None` outside them (another service's keys are not judged).
pub fn is_real_key(key: &str) -> Option<bool> {
    is_real_key_lowercase(&key.to_ascii_lowercase())
}

/// [`is_real_key`] for a key already lower-cased (the evaluator's context keeps its keys so).
pub fn is_real_key_lowercase(lower: &str) -> Option<bool> {
    if !COVERED.iter().any(|ns| lower.starts_with(ns)) || CATALOGUE.keys.is_empty() {
        return None;
    }
    Some(CATALOGUE.keys.contains(lower) || CATALOGUE.prefixes.iter().any(|p| lower.starts_with(p)))
}

/// The real key a key that does not exist was probably meant to be: one or two edits away.
pub fn key_meant(key: &str) -> Option<&'static str> {
    if is_real_key(key) != Some(false) {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    CATALOGUE
        .written
        .iter()
        .map(|k| (strsim::levenshtein(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| (1..=2).contains(d))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

/// Every operator AWS knows, as written in its documentation (with `IfExists` and the set
/// qualifiers handled by [`super::condition::parse_operator`]).
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// The operator a name AWS does not know was probably meant to be (`StringEqual` →
/// `StringEquals`); `None` for a known operator.
pub fn operator_meant(name: &str) -> Option<String> {
    if super::condition::parse_operator(name).is_some() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let (qualifier, rest) = ["foranyvalue:", "forallvalues:"]
        .iter()
        .find_map(|q| lower.strip_prefix(q).map(|r| (&name[..q.len()], r)))
        .unwrap_or(("", lower.as_str()));
    let (rest, if_exists) = match rest.strip_suffix("ifexists") {
        Some(r) => (r, "IfExists"),
        None => (rest, ""),
    };
    OPERATORS
        .iter()
        .map(|op| (strsim::levenshtein(rest, &op.to_ascii_lowercase()), op))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, op)| format!("{qualifier}{op}{if_exists}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_list_parses_and_covers_what_the_tool_relies_on() {
        let file: KeyFile = toml::from_str(CONDITION_KEYS_TOML).unwrap();
        assert!(file.aws.keys.len() >= 40, "{}", file.aws.keys.len());
        assert!(file.s3.keys.len() >= 30, "{}", file.s3.keys.len());
        assert!(file.kms.keys.len() >= 20, "{}", file.kms.keys.len());
        assert!(!file.sts.keys.is_empty());
        for ns in [&file.aws, &file.s3, &file.kms, &file.sts] {
            assert!(ns.source.starts_with("https://"), "{}", ns.source);
        }
        // Every key the tool's model of AoC's requests sets is a real key.
        let facts = include_str!("../../checks/aoc-requests.toml");
        for line in facts.lines().filter(|l| l.starts_with("key = ")) {
            let key = line.trim_start_matches("key = ").trim_matches('"');
            assert_eq!(is_real_key(key), Some(true), "{key}");
        }
        for key in [
            "aws:PrincipalArn",
            "aws:PrincipalAccount",
            "aws:PrincipalOrgID",
            "aws:SourceIp",
            "aws:RequestedRegion",
            "aws:PrincipalTag/team",
            "s3:prefix",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
            "kms:ViaService",
            "kms:CallerAccount",
            "kms:EncryptionContext:aws:s3:arn",
            "kms:EncryptionContextKeys",
            "sts:ExternalId",
        ] {
            assert_eq!(is_real_key(key), Some(true), "{key}");
        }
    }

    #[test]
    fn typos_are_told_from_real_keys_and_operators() {
        assert_eq!(
            key_meant("aws:SecureTransprot"),
            Some("aws:SecureTransport")
        );
        assert_eq!(is_real_key("aws:SecureTransprot"), Some(false));
        assert_eq!(key_meant("aws:SourceIp"), None);
        assert_eq!(is_real_key("ec2:Region"), None);
        assert_eq!(
            operator_meant("StringEqual").as_deref(),
            Some("StringEquals")
        );
        assert_eq!(
            operator_meant("ForAnyValue:StringLik").as_deref(),
            Some("ForAnyValue:StringLike")
        );
        assert_eq!(operator_meant("StringEquals"), None);
        assert_eq!(operator_meant("BoolIfExists"), None);
    }
}
