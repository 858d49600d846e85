//! Matching a message against the catalogue: both compared in one normal form (so a message
//! copied from a console, a log line or a JSON string matches alike), the entries most specific
//! first, and within each the causes the message itself names first.

use std::collections::BTreeSet;

use super::catalog::{Catalog, Cause, Entry};

/// The form both the message and the patterns are compared in: lower case, quotes and
/// backslashes dropped, escaped and real line breaks and every run of white space made one
/// space. A message copied from a console, a log line or a JSON string then matches the same
/// pattern.
pub fn normalize(text: &str) -> String {
    // Escapes first, while the backslash still says they are escapes (JSON-quoted log lines).
    let unescaped = text
        .replace("\\n", " ")
        .replace("\\r", " ")
        .replace("\\t", " ");
    let mut out = String::with_capacity(unescaped.len());
    let mut space = false;
    for c in unescaped.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if matches!(
            c,
            '"' | '\'' | '`' | '\\' | '“' | '”' | '‘' | '’' | '«' | '»'
        ) {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// An entry that matched, with its causes in the order to show them.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub entry: &'a Entry,
    pub causes: Vec<&'a Cause>,
}

impl Match<'_> {
    /// The check IDs of every cause, in cause order, once each.
    pub fn check_ids(&self) -> Vec<&str> {
        unique_ids(self.causes.iter().flat_map(|c| &c.checks))
    }
}

pub(super) fn unique_ids<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    ids.into_iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Whether the (normalized) message contains the pattern.
fn contains(message: &str, pattern: &str) -> bool {
    let p = normalize(pattern);
    !p.is_empty() && message.contains(&p)
}

/// How specifically the message names this cause: the length of the longest `first_if` pattern
/// it contains, 0 for none. AWS's reason clauses nest ("explicit deny" is part of "explicit deny
/// in a permissions boundary"), and the longer clause is the one that says which layer decided.
fn first_if_weight(cause: &Cause, message: &str) -> usize {
    cause
        .first_if
        .iter()
        .map(|p| normalize(p))
        .filter(|p| !p.is_empty() && message.contains(p.as_str()))
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0)
}

/// The entries the message matches, most specific (highest priority) first; ties keep the
/// catalog's order. Within each, causes named by a `first_if` pattern come first, the most
/// specifically named leading; the others keep the catalog's order.
pub fn find<'a>(catalog: &'a Catalog, message: &str) -> Vec<Match<'a>> {
    let text = normalize(message);
    let mut matches: Vec<Match<'a>> = catalog
        .entries
        .iter()
        .filter(|e| {
            e.any.iter().any(|p| contains(&text, p))
                && e.all.iter().all(|p| contains(&text, p))
                && !e.none.iter().any(|p| contains(&text, p))
        })
        .map(|entry| {
            let mut causes: Vec<&Cause> = entry.causes.iter().collect();
            // Stable: causes named equally keep the catalog's order.
            causes.sort_by_key(|c| std::cmp::Reverse(first_if_weight(c, &text)));
            Match { entry, causes }
        })
        .collect();
    // Stable: equal priorities stay in file order.
    matches.sort_by_key(|m| std::cmp::Reverse(m.entry.priority));
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::{catalog, parse};

    fn top(message: &str) -> String {
        let catalog = catalog().expect("catalog loads");
        find(catalog, message)
            .first()
            .map(|m| m.entry.id.clone())
            .unwrap_or_default()
    }

    fn ids(message: &str) -> Vec<String> {
        let catalog = catalog().expect("catalog loads");
        find(catalog, message)
            .iter()
            .map(|m| m.entry.id.clone())
            .collect()
    }

    /// The first cause's first check, for a message.
    fn first_check(message: &str) -> String {
        let catalog = catalog().expect("catalog loads");
        find(catalog, message)
            .first()
            .and_then(|m| m.causes.first())
            .and_then(|c| c.checks.first())
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn normalize_drops_case_quotes_and_line_breaks() {
        assert_eq!(
            normalize("  Not authorized to\n\tperform: \"kms:GenerateDataKey\"\\nnext  "),
            "not authorized to perform: kms:generatedatakey next"
        );
        assert_eq!(
            normalize("the region ‘us-east-1’ is wrong"),
            "the region us-east-1 is wrong"
        );
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn a_kms_action_wins_over_the_generic_s3_access_denied() {
        let m = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
                 arn:aws:sts::123:assumed-role/aoc/x is not authorized to perform: \
                 kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123:key/k because no \
                 identity-based policy allows the kms:GenerateDataKey action (Service: S3, \
                 Status Code: 403, Request ID: ABC)";
        let found = ids(m);
        assert_eq!(
            found.first().map(String::as_str),
            Some("kms.generate-data-key-denied")
        );
        assert!(
            !found.contains(&"s3.access-denied".to_string()),
            "{found:?}"
        );
        let catalog = catalog().expect("catalog loads");
        let top = &find(catalog, m)[0];
        assert_eq!(top.check_ids().first(), Some(&"role.kms-access"));
    }

    #[test]
    fn a_plain_s3_access_denied_is_the_s3_entry() {
        assert_eq!(
            top(
                "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
            ),
            "s3.access-denied"
        );
        assert_eq!(
            top(
                "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b"
            ),
            "s3.access-denied"
        );
    }

    #[test]
    fn assume_role_is_the_sts_entry_not_s3() {
        let found = ids(
            "AccessDenied: User: arn:aws:sts::860559707280:assumed-role/atp/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/r",
        );
        assert_eq!(found, vec!["sts.assume-role-denied"]);
    }

    #[test]
    fn an_aws_detail_beats_aocs_generic_message() {
        let found = ids(
            "Unable to create ATS access key and secret: not authorized to perform: sts:AssumeRole",
        );
        assert_eq!(found, vec!["sts.assume-role-denied", "aoc.ats-access-key"]);
        assert_eq!(
            top("Error: \"Unable to create ATS access key and secret\""),
            "aoc.ats-access-key"
        );
    }

    #[test]
    fn first_if_moves_the_named_cause_first() {
        let catalog = catalog().expect("catalog loads");
        let plain = find(catalog, "not authorized to perform: kms:Decrypt");
        let deny = find(
            catalog,
            "not authorized to perform: kms:Decrypt with an explicit deny in a resource-based policy",
        );
        assert!(plain[0].causes[0].text.contains("do not allow kms:Decrypt"));
        assert!(deny[0].causes[0].text.contains("explicit Deny"));
        // Everything else keeps its order.
        assert_eq!(deny[0].causes.len(), plain[0].causes.len());
    }

    #[test]
    fn none_patterns_exclude() {
        assert_eq!(
            top("An error occurred (ResourceNotFoundException) when calling X"),
            ""
        );
        assert_eq!(top("(KMS.NotFoundException) Invalid arn"), "kms.not-found");
    }

    #[test]
    fn issue11_d12_the_reason_clause_names_the_layer_that_decided() {
        let denied = |action: &str, clause: &str| {
            format!(
                "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: {action} on \
                 resource: arn:aws:kms:us-east-1:1:key/k {clause}"
            )
        };
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            for (clause, check) in [
                (
                    "because no resource-based policy allows the action",
                    "kms.key-policy",
                ),
                (
                    "because no identity-based policy allows the action",
                    "role.kms-access",
                ),
                (
                    "with an explicit deny in a resource-based policy",
                    "kms.key-policy",
                ),
                (
                    "with an explicit deny in an identity-based policy",
                    "role.kms-access",
                ),
                (
                    "with an explicit deny in a permissions boundary",
                    "role.kms-access",
                ),
                (
                    "because no permissions boundary allows the action",
                    "role.kms-access",
                ),
            ] {
                let m = denied(action, clause);
                assert_eq!(first_check(&m), check, "{m}");
            }
            // The boundary is named as the layer to fix, not the role's policies.
            let catalog = catalog().expect("catalog loads");
            let m = denied(action, "with an explicit deny in a permissions boundary");
            assert!(
                find(catalog, &m)[0].causes[0]
                    .text
                    .contains("permissions boundary")
            );
            // Organization policies: the cause that names them leads, confirmed by org.policies.
            for clause in [
                "with an explicit deny in a service control policy",
                "with an explicit deny in a resource control policy",
            ] {
                let m = denied(action, clause);
                let first = find(catalog, &m)[0].causes[0];
                assert_eq!(first.checks, ["org.policies"], "{m}");
                assert!(first.text.contains("AWS Organizations"), "{m}");
                assert!(first.unchecked.is_none(), "{m}");
            }
        }
    }

    #[test]
    fn issue11_d12_a_longer_first_if_pattern_wins_and_ties_keep_file_order() {
        let text = r#"
            [[entry]]
            id = "x"
            title = "X"
            priority = 1
            any = ["x"]
            meaning = "m"
            [[entry.cause]]
            text = "plain"
            checks = ["role.trust"]
            [[entry.cause]]
            text = "generic"
            checks = ["role.trust"]
            first_if = ["explicit deny"]
            [[entry.cause]]
            text = "specific"
            checks = ["role.trust"]
            first_if = ["explicit deny in a permissions boundary"]
            [[entry.cause]]
            text = "generic too"
            checks = ["role.trust"]
            first_if = ["explicit deny"]
        "#;
        let catalog = parse(text).expect("parses");
        let order = |m: &str| -> Vec<String> {
            find(&catalog, m)[0]
                .causes
                .iter()
                .map(|c| c.text.clone())
                .collect()
        };
        assert_eq!(
            order("x with an explicit deny in a permissions boundary"),
            ["specific", "generic", "generic too", "plain"]
        );
        assert_eq!(
            order("x with an explicit deny"),
            ["generic", "generic too", "plain", "specific"]
        );
        assert_eq!(order("x"), ["plain", "generic", "specific", "generic too"]);
    }

    #[test]
    fn issue11_d12_kms_not_found_wordings_point_at_different_causes() {
        let catalog = catalog().expect("catalog loads");
        let first = |m: &str| find(catalog, m)[0].causes[0].text.clone();
        assert!(
            first(
                "(KMS.NotFoundException) when calling the PutObject operation: Invalid keyId aws/s3"
            )
            .contains("aws/s3")
        );
        assert!(first("(KMS.NotFoundException): Invalid keyId 'alias/aws/s3'").contains("aws/s3"));
        assert!(
            first("NotFoundException: Key 'arn:aws:kms:us-east-1:1:key/k' does not exist")
                .contains("typo")
        );
        assert!(
            first("NotFoundException: Alias arn:aws:kms:us-east-1:1:alias/a is not found.")
                .contains("alias does not exist")
        );
        assert!(first("(KMS.NotFoundException) when calling the PutObject operation: Invalid arn us-west-2").contains("another region"));
    }

    #[test]
    fn an_unknown_message_matches_nothing() {
        assert!(ids("the printer is on fire").is_empty());
        assert!(ids("").is_empty());
    }
}
