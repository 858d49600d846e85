//! Property tests (proptest) of the pure parts the checks stand on: the wildcard matcher,
//! action matching, policy parsing and normalisation, ARNs and the redactor. They call the
//! library directly and run a few hundred cases each.

use std::collections::BTreeMap;

use aoc_preflight::arn::Arn;
use aoc_preflight::policy::matching::{
    action_matches, compile, tokens_match, wildcard_match, wildcard_match_ignore_case,
};
use aoc_preflight::policy::{parse_policy, to_json};
use aoc_preflight::redact::Redactor;
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // No regression files in the source tree: failures print the minimal case.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The glob semantics IAM documents, as a plain dynamic program: `*` any sequence, `?`
/// exactly one character, anything else itself.
fn reference_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // m[i][j]: p[i..] matches t[j..].
    let mut m = vec![vec![false; t.len() + 1]; p.len() + 1];
    m[p.len()][t.len()] = true;
    for i in (0..p.len()).rev() {
        for j in (0..=t.len()).rev() {
            m[i][j] = match p[i] {
                '*' => m[i + 1][j] || (j < t.len() && m[i][j + 1]),
                '?' => j < t.len() && m[i + 1][j + 1],
                c => j < t.len() && t[j] == c && m[i + 1][j + 1],
            };
        }
    }
    m[0][0]
}

/// Text without wildcard characters.
fn literal() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9:/._-]{0,12}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_matcher_agrees_with_the_reference(
        pattern in "[ab*?]{0,10}",
        text in "[ab*?]{0,12}",
    ) {
        prop_assert_eq!(wildcard_match(&pattern, &text), reference_match(&pattern, &text));
    }

    /// Patterns with policy variables are matched compiled, plain ones straight from the
    /// text: the two paths must agree, multi-byte characters included.
    #[test]
    fn compiled_and_text_patterns_agree(
        pattern in "[aé*?]{0,10}",
        text in "[aéÉ*?]{0,12}",
        ignore_case in any::<bool>(),
    ) {
        let plain = if ignore_case {
            wildcard_match_ignore_case(&pattern, &text)
        } else {
            wildcard_match(&pattern, &text)
        };
        prop_assert_eq!(tokens_match(&compile(&pattern, true), &text, ignore_case), plain);
        if !ignore_case {
            prop_assert_eq!(plain, reference_match(&pattern, &text));
        }
    }

    #[test]
    fn a_pattern_without_wildcards_matches_only_itself(p in literal(), t in literal()) {
        prop_assert!(wildcard_match(&p, &p));
        prop_assert_eq!(wildcard_match(&p, &t), p == t);
    }

    #[test]
    fn a_star_matches_everything(t in any::<String>()) {
        prop_assert!(wildcard_match("*", &t));
        prop_assert!(wildcard_match("**", &t));
        prop_assert!(action_matches("*", &t));
    }

    #[test]
    fn a_prefix_star_matches_exactly_the_strings_with_that_prefix(
        prefix in literal(),
        t in "[a-zA-Z0-9:/._-]{0,16}",
    ) {
        let pattern = format!("{prefix}*");
        prop_assert_eq!(wildcard_match(&pattern, &t), t.starts_with(&prefix));
        // With the text built to start with the prefix, always.
        let with_prefix = format!("{prefix}{t}");
        prop_assert!(wildcard_match(&pattern, &with_prefix));
    }

    #[test]
    fn stars_around_a_literal_mean_contains(
        middle in literal(),
        t in "[a-c:/-]{0,16}",
    ) {
        let pattern = format!("*{middle}*");
        prop_assert_eq!(wildcard_match(&pattern, &t), t.contains(&middle));
    }

    #[test]
    fn question_marks_match_exactly_that_many_characters(n in 0usize..8, t in "\\PC{0,10}") {
        prop_assert_eq!(wildcard_match(&"?".repeat(n), &t), t.chars().count() == n);
    }

    #[test]
    fn resources_are_case_sensitive(t in "[a-z]{1,12}") {
        prop_assert!(!wildcard_match(&t.to_uppercase(), &t));
    }

    #[test]
    fn action_matching_ignores_ascii_case(
        pattern in "[a-zA-Z0-9]{1,6}:[a-zA-Z*?]{0,12}",
        action in "[a-zA-Z0-9]{1,6}:[a-zA-Z]{0,12}",
    ) {
        let expected = reference_match(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase());
        prop_assert_eq!(action_matches(&pattern, &action), expected);
        prop_assert_eq!(action_matches(&pattern.to_ascii_uppercase(), &action), expected);
        prop_assert_eq!(action_matches(&pattern, &action.to_ascii_uppercase()), expected);
        prop_assert_eq!(wildcard_match_ignore_case(&pattern, &action), expected);
    }

    #[test]
    fn a_service_wildcard_covers_its_actions_only(
        service in "[a-z0-9]{1,6}",
        other in "[a-z0-9]{1,6}",
        name in "[A-Za-z]{1,12}",
    ) {
        let action = format!("{service}:{name}");
        let own = format!("{service}:*");
        let another = format!("{other}:*");
        prop_assert!(action_matches(&own, &action));
        prop_assert_eq!(action_matches(&another, &action), other == service);
    }
}

// ---------------------------------------------------------------------------------------------
// Policies: parse → to_json → parse is a fixed point
// ---------------------------------------------------------------------------------------------

/// A single value or a list, as people write them (`"s3:*"` or `["s3:*"]`).
fn one_or_many(values: Vec<String>, single: bool) -> Value {
    if single && values.len() == 1 {
        json!(values[0])
    } else {
        json!(values)
    }
}

fn strings(s: &'static str, max: usize) -> impl Strategy<Value = (Vec<String>, bool)> {
    (prop::collection::vec(s, 1..=max), any::<bool>())
}

fn action_list() -> impl Strategy<Value = Value> {
    strings("[a-z0-9]{1,5}:[A-Za-z*?]{1,10}|\\*", 3).prop_map(|(v, s)| one_or_many(v, s))
}

fn resource_list() -> impl Strategy<Value = Value> {
    strings(
        "\\*|arn:aws:s3:::[a-z0-9-]{3,10}(/[a-z*]{0,6})?|arn:aws:kms:us-east-1:[0-9]{12}:key/[a-f0-9-]{4,8}",
        3,
    )
    .prop_map(|(v, s)| one_or_many(v, s))
}

fn principal() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        (
            prop::option::of(strings(
                "\\*|[0-9]{12}|arn:aws:iam::[0-9]{12}:(root|role/[a-z-]{1,8})",
                2
            )),
            prop::option::of(strings("[a-z0-9]{1,8}\\.amazonaws\\.com", 2)),
        )
            .prop_filter("a principal map is not empty", |(a, s)| a.is_some()
                || s.is_some())
            .prop_map(|(aws, service)| {
                let mut map = serde_json::Map::new();
                if let Some((v, s)) = aws {
                    map.insert("AWS".into(), one_or_many(v, s));
                }
                if let Some((v, s)) = service {
                    map.insert("Service".into(), one_or_many(v, s));
                }
                Value::Object(map)
            }),
    ]
}

const OPERATORS: [&str; 10] = [
    "StringEquals",
    "StringNotEqualsIfExists",
    "StringLike",
    "ForAnyValue:StringLike",
    "ArnLike",
    "Bool",
    "NumericLessThan",
    "DateGreaterThan",
    "IpAddress",
    "Null",
];

fn condition_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        strings("[A-Za-z0-9:/.*-]{0,10}", 3).prop_map(|(v, s)| one_or_many(v, s)),
        any::<bool>().prop_map(Value::from),
        (0u32..100_000).prop_map(Value::from),
    ]
}

fn condition() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(OPERATORS.to_vec()),
        prop::collection::btree_map("[a-z]{1,4}:[A-Za-z]{1,10}", condition_value(), 1..3),
        1..3,
    )
    .prop_map(|ops| {
        Value::Object(
            ops.into_iter()
                .map(|(op, keys)| {
                    let keys: serde_json::Map<String, Value> = keys.into_iter().collect();
                    (op.to_string(), Value::Object(keys))
                })
                .collect(),
        )
    })
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[A-Za-z0-9]{0,10}"),
        any::<bool>(),
        prop::option::of((any::<bool>(), principal())),
        (any::<bool>(), action_list()),
        prop::option::of((any::<bool>(), resource_list())),
        prop::option::of(condition()),
    )
        .prop_map(|(sid, allow, principal, action, resource, condition)| {
            let mut st = serde_json::Map::new();
            if let Some(sid) = sid {
                st.insert("Sid".into(), json!(sid));
            }
            st.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            if let Some((not, p)) = principal {
                st.insert(if not { "NotPrincipal" } else { "Principal" }.into(), p);
            }
            let (not, a) = action;
            st.insert(if not { "NotAction" } else { "Action" }.into(), a);
            if let Some((not, r)) = resource {
                st.insert(if not { "NotResource" } else { "Resource" }.into(), r);
            }
            if let Some(c) = condition {
                st.insert("Condition".into(), c);
            }
            Value::Object(st)
        })
}

fn policy() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop::sample::select(vec!["2012-10-17", "2008-10-17"])),
        prop::option::of("[a-z0-9-]{1,12}"),
        prop::collection::vec(statement(), 1..5),
        any::<bool>(),
    )
        .prop_map(|(version, id, statements, single)| {
            let mut top = serde_json::Map::new();
            if let Some(v) = version {
                top.insert("Version".into(), json!(v));
            }
            if let Some(id) = id {
                top.insert("Id".into(), json!(id));
            }
            let statement = if single && statements.len() == 1 {
                statements[0].clone()
            } else {
                Value::Array(statements)
            };
            top.insert("Statement".into(), statement);
            Value::Object(top)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_then_to_json_then_parse_is_a_fixed_point(p in policy(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&p).expect("JSON")
        } else {
            p.to_string()
        };
        let first = parse_policy(&text)
            .unwrap_or_else(|e| panic!("a generated policy does not parse: {e}\n{text}"));
        let normalised = to_json(&first);
        let second = parse_policy(&normalised.to_string())
            .unwrap_or_else(|e| panic!("to_json's output does not parse: {e}\n{normalised}"));
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(to_json(&second), normalised);
        prop_assert_eq!(first.statements.len(), second.statements.len());
    }

    #[test]
    fn url_encoding_does_not_change_a_policy(p in policy()) {
        let text = p.to_string();
        let encoded =
            percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        prop_assert_eq!(parse_policy(&encoded).expect("encoded"), parse_policy(&text).expect("plain"));
    }

    #[test]
    fn the_parser_never_panics_on_json_like_text(text in "[{}\\[\\]\":,a-zA-Z0-9 *%\\\\]{0,64}") {
        let _ = parse_policy(&text);
        let _ = parse_policy(&format!("{{\"Statement\": {text}}}"));
    }

    #[test]
    fn mangled_policies_never_panic(p in policy(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = p.to_string().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = parse_policy(text);
        }
        let _ = parse_policy(&String::from_utf8_lossy(&bytes[..i]));
    }
}

// ---------------------------------------------------------------------------------------------
// ARNs
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arns_round_trip(
        partition in "aws|aws-cn|aws-us-gov|[a-z-]{1,8}",
        service in "[a-z0-9-]{1,10}",
        region in "([a-z]{2}-[a-z]{4,9}-[0-9])?",
        account in "([0-9]{12}|aws)?",
        resource in "[A-Za-z0-9:/*._+=,@-]{1,40}",
    ) {
        let text = format!("arn:{partition}:{service}:{region}:{account}:{resource}");
        let arn: Arn = text.parse().expect("a well-formed ARN parses");
        prop_assert_eq!(&arn.partition, &partition);
        prop_assert_eq!(&arn.service, &service);
        prop_assert_eq!(&arn.region, &region);
        prop_assert_eq!(&arn.account, &account);
        prop_assert_eq!(&arn.resource, &resource);
        prop_assert_eq!(arn.to_string(), text);
        prop_assert_eq!(arn.has_valid_account(), account.len() == 12);
    }

    #[test]
    fn whatever_parses_displays_as_written(text in "(arn:)?[a-z0-9:/*-]{0,30}") {
        if let Ok(arn) = text.parse::<Arn>() {
            prop_assert_eq!(arn.to_string(), text);
        } else {
            // Every string that is refused lacks the prefix, a field, or a required value.
            let parts: Vec<&str> = text.splitn(6, ':').collect();
            prop_assert!(
                parts.len() < 6
                    || parts[0] != "arn"
                    || parts[1].is_empty()
                    || parts[2].is_empty()
                    || parts[5].is_empty()
            );
        }
    }

    #[test]
    fn a_string_without_the_arn_prefix_is_refused(text in "[a-z0-9:/-]{0,30}") {
        prop_assume!(!text.starts_with("arn:"));
        prop_assert!(text.parse::<Arn>().is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// The redactor
// ---------------------------------------------------------------------------------------------

/// Maximal runs of ASCII digits of exactly 12 (account IDs; a 13-digit number is not one).
fn twelve_digit_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            current.push(c);
        } else {
            if current.len() == 12 {
                runs.push(current.clone());
            }
            current.clear();
        }
    }
    runs
}

/// Text where account IDs stand between separators, as in ARNs, JSON and prose.
fn text_with_separated_accounts() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[1-9][0-9]{11}",
            "[1-9][0-9]{0,13}",
            "[a-z]{1,8}",
            Just("arn:aws:iam::".to_string()),
            Just(":role/aoc".to_string()),
            Just("\"".to_string()),
            "[ :/,.\"é\n]{1,2}",
        ],
        0..12,
    )
    .prop_map(|parts| {
        // Keep tokens apart so that every generated account is its own digit run.
        parts.join(" ")
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_redactor_leaves_no_account_id_between_separators(text in text_with_separated_accounts()) {
        let mut r = Redactor::new();
        let out = r.redact(&text);
        let original = twelve_digit_runs(&text);
        let left: Vec<String> = twelve_digit_runs(&out)
            .into_iter()
            .filter(|run| original.contains(run))
            .collect();
        prop_assert!(left.is_empty(), "{:?} left in {:?}", left, out);
        // Placeholders are consistent: redacting again with the same map gives the same text.
        prop_assert_eq!(r.redact(&text), out);
    }

    #[test]
    fn the_redactor_gives_distinct_accounts_distinct_placeholders(
        a in "[1-9][0-9]{11}",
        b in "[1-9][0-9]{11}",
    ) {
        let mut r = Redactor::new();
        let out = r.redact(&format!("arn:aws:iam::{a}:root {b}"));
        let runs = twelve_digit_runs(&out);
        prop_assert_eq!(runs.len(), 2);
        prop_assert_eq!(runs[0] == runs[1], a == b);
        prop_assert!(!out.contains(&a) && !out.contains(&b));
    }
}

proptest! {
    #![proptest_config(config())]

    /// Account IDs also appear glued to names: bucket names such as
    /// `cdk-hnb659fds-assets-123456789012-us-east-1` or `aws-cloudtrail-logs-123456789012`.
    #[test]
    fn the_redactor_leaves_no_twelve_digit_run_anywhere(
        parts in prop::collection::vec(prop_oneof!["[1-9][0-9]{11}", "[a-z]{1,6}", "[-:/ ]"], 0..10),
    ) {
        let text: String = parts.concat();
        let mut r = Redactor::new();
        let out = r.redact(&text);
        let original: Vec<String> = twelve_digit_runs(&text);
        let left: Vec<String> = twelve_digit_runs(&out)
            .into_iter()
            .filter(|run| original.contains(run))
            .collect();
        prop_assert!(left.is_empty(), "{:?} left in {:?}", left, out);
    }
}

/// The redactor property's failure, pinned: a bucket name with the account in it.
#[test]
fn the_redactor_replaces_an_account_inside_a_bucket_name() {
    let mut r = Redactor::new();
    let out = r.redact("arn:aws:s3:::cdk-hnb659fds-assets-123456789012-us-east-1/data");
    assert!(!out.contains("123456789012"), "{out}");
}

#[test]
fn the_reference_matcher_is_right_on_known_cases() {
    let cases: BTreeMap<(&str, &str), bool> = [
        (("s3:*", "s3:GetObject"), true),
        (("s3:Get*", "s3:PutObject"), false),
        (("a?c", "abc"), true),
        (("a?c", "ac"), false),
        (("*b*", "abc"), true),
        (("", ""), true),
        (("", "a"), false),
    ]
    .into_iter()
    .collect();
    for ((p, t), want) in cases {
        assert_eq!(reference_match(p, t), want, "{p} vs {t}");
        assert_eq!(wildcard_match(p, t), want, "{p} vs {t}");
    }
}
