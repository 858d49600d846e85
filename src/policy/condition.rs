//! Condition operators: evaluating one `operator: { key: values }` entry against a request
//! context, three-valued.
//!
//! Pure: no I/O. Behaviour follows "IAM JSON policy elements: Condition operators"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>)
//! and "Conditions with multiple context keys or values"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html>):
//!
//! - several policy values are ORed; for a negated operator (`StringNotEquals`, ...) they
//!   are NORed: the condition holds when the request value matches none of them;
//! - a key absent from the request makes a positive operator false and a negated operator
//!   true; `...IfExists` makes an absent key true; `Null` tests presence itself;
//! - `ForAnyValue:` holds when some request value matches (false when the key is absent);
//!   `ForAllValues:` when every request value matches (true when the key is absent)
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>).
//!
//! A key whose value the tool does not know ([`KeyState::Unknown`]) makes the condition
//! unknown, whatever the operator (also `...IfExists` and `Null`).

use std::net::IpAddr;

use ipnet::IpNet;

use super::matching::{Expanded, Tok, Tri, expand, tokens_match};
use super::{Condition, Context, KeyState, MissingKey};

/// Numeric and date comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The comparison an operator makes, before negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOp {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    BinaryEquals,
    IpAddress,
    /// `ArnEquals` and `ArnLike` behave the same: segment by segment, with wildcards.
    Arn,
    Null,
}

/// The set prefix of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    ForAnyValue,
    ForAllValues,
}

/// A parsed operator name such as `ForAllValues:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub set: Option<SetOp>,
    pub base: BaseOp,
    /// `StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...
    pub negated: bool,
    pub if_exists: bool,
}

/// Parses an operator name (case-insensitively, as a lenient reading of what AWS accepts).
/// `None` for an operator this evaluator does not know.
pub fn parse_operator(name: &str) -> Option<Operator> {
    let lower = name.to_ascii_lowercase();
    let mut rest = lower.as_str();
    let mut set = None;
    if let Some(r) = rest.strip_prefix("foranyvalue:") {
        set = Some(SetOp::ForAnyValue);
        rest = r;
    } else if let Some(r) = rest.strip_prefix("forallvalues:") {
        set = Some(SetOp::ForAllValues);
        rest = r;
    }
    let mut if_exists = false;
    if let Some(r) = rest.strip_suffix("ifexists") {
        if_exists = true;
        rest = r;
    }
    let (base, negated) = match rest {
        "stringequals" => (BaseOp::StringEquals, false),
        "stringnotequals" => (BaseOp::StringEquals, true),
        "stringequalsignorecase" => (BaseOp::StringEqualsIgnoreCase, false),
        "stringnotequalsignorecase" => (BaseOp::StringEqualsIgnoreCase, true),
        "stringlike" => (BaseOp::StringLike, false),
        "stringnotlike" => (BaseOp::StringLike, true),
        "numericequals" => (BaseOp::Numeric(Cmp::Eq), false),
        "numericnotequals" => (BaseOp::Numeric(Cmp::Eq), true),
        "numericlessthan" => (BaseOp::Numeric(Cmp::Lt), false),
        "numericlessthanequals" => (BaseOp::Numeric(Cmp::Le), false),
        "numericgreaterthan" => (BaseOp::Numeric(Cmp::Gt), false),
        "numericgreaterthanequals" => (BaseOp::Numeric(Cmp::Ge), false),
        "dateequals" => (BaseOp::Date(Cmp::Eq), false),
        "datenotequals" => (BaseOp::Date(Cmp::Eq), true),
        "datelessthan" => (BaseOp::Date(Cmp::Lt), false),
        "datelessthanequals" => (BaseOp::Date(Cmp::Le), false),
        "dategreaterthan" => (BaseOp::Date(Cmp::Gt), false),
        "dategreaterthanequals" => (BaseOp::Date(Cmp::Ge), false),
        "bool" => (BaseOp::Bool, false),
        "binaryequals" => (BaseOp::BinaryEquals, false),
        "ipaddress" => (BaseOp::IpAddress, false),
        "notipaddress" => (BaseOp::IpAddress, true),
        "arnequals" | "arnlike" => (BaseOp::Arn, false),
        "arnnotequals" | "arnnotlike" => (BaseOp::Arn, true),
        // `NullIfExists` is not an operator.
        "null" if !if_exists => (BaseOp::Null, false),
        _ => return None,
    };
    Some(Operator {
        set,
        base,
        negated,
        if_exists,
    })
}

/// True when this evaluator knows the operator.
pub fn is_known_operator(name: &str) -> bool {
    parse_operator(name).is_some()
}

/// Evaluates one condition. `vars`: whether the document supports policy variables
/// (`Version` 2012-10-17), which AWS substitutes in the values of string and ARN operators.
///
/// An operator this evaluator does not know makes the condition false with a strict context
/// (`simulate`: a statement we cannot read does not apply) and unknown with a partial one
/// (the checks then report it as an undeterminable condition).
pub fn evaluate_condition(cond: &Condition, ctx: &Context, vars: bool) -> Tri {
    let Some(op) = parse_operator(&cond.operator) else {
        return match ctx.missing {
            MissingKey::Absent => Tri::False,
            MissingKey::Unknown => Tri::Unknown,
        };
    };
    let request_values: &[String] = match ctx.get(&cond.key) {
        KeyState::Unknown => return Tri::Unknown,
        KeyState::Absent => &[],
        KeyState::Present(v) => v,
        // Decided only when every possible value decides it the same way.
        KeyState::OneOf(alternatives) => {
            let results: Vec<Tri> = alternatives
                .iter()
                .map(|values| evaluate_values(cond, op, values, ctx, vars))
                .collect();
            return if results.iter().all(|r| *r == Tri::True) {
                Tri::True
            } else if results.iter().all(|r| *r == Tri::False) {
                Tri::False
            } else {
                Tri::Unknown
            };
        }
        KeyState::Prefixed(prefix) => {
            if op.base == BaseOp::Null {
                // The key is there: `Null: true` fails, `Null: false` holds.
                return Tri::any(
                    cond.values
                        .iter()
                        .map(|v| Tri::from_bool(!v.trim().eq_ignore_ascii_case("true"))),
                );
            }
            let hit =
                Tri::any(cond.values.iter().map(|v| {
                    PolicyValue::new(v, op.base, ctx, vars).matches_prefix(prefix, op.base)
                }));
            return if op.negated { hit.not() } else { hit };
        }
    };
    evaluate_values(cond, op, request_values, ctx, vars)
}

/// [`evaluate_condition`] for a request whose values for the key are known.
fn evaluate_values(
    cond: &Condition,
    op: Operator,
    request_values: &[String],
    ctx: &Context,
    vars: bool,
) -> Tri {
    let present = !request_values.is_empty();

    if op.base == BaseOp::Null {
        // `"Null": {"k": "true"}` holds when the key is absent; `"false"` when present.
        return Tri::any(cond.values.iter().map(|v| {
            let want_absent = v.trim().eq_ignore_ascii_case("true");
            Tri::from_bool(want_absent != present)
        }));
    }

    if !present {
        if op.if_exists {
            return Tri::True;
        }
        return match op.set {
            Some(SetOp::ForAllValues) => Tri::True,
            Some(SetOp::ForAnyValue) => Tri::False,
            None => Tri::from_bool(op.negated),
        };
    }

    let policy: Vec<PolicyValue> = cond
        .values
        .iter()
        .map(|v| PolicyValue::new(v, op.base, ctx, vars))
        .collect();
    // For one request value: does it match any policy value (then negate for NotXxx)?
    let per_value = |rv: &String| -> Tri {
        let hit = Tri::any(policy.iter().map(|pv| pv.matches(rv, op.base)));
        if op.negated { hit.not() } else { hit }
    };
    match op.set {
        Some(SetOp::ForAnyValue) => Tri::any(request_values.iter().map(per_value)),
        Some(SetOp::ForAllValues) => Tri::all(request_values.iter().map(per_value)),
        None => {
            // A single-valued operator on a key with several values (AWS advises against
            // it): the positive test holds if any request value matches, and the negated
            // test is its complement.
            let hit = Tri::any(
                request_values
                    .iter()
                    .map(|rv| Tri::any(policy.iter().map(|pv| pv.matches(rv, op.base)))),
            );
            if op.negated { hit.not() } else { hit }
        }
    }
}

/// A policy value prepared for one operator family.
enum PolicyValue {
    /// String and ARN operators, after variable substitution.
    Pattern(Expanded),
    Raw(String),
}

impl PolicyValue {
    fn new(value: &str, base: BaseOp, ctx: &Context, vars: bool) -> PolicyValue {
        match base {
            BaseOp::StringEquals | BaseOp::StringEqualsIgnoreCase => {
                PolicyValue::Pattern(expand(value, ctx, vars, false))
            }
            BaseOp::StringLike | BaseOp::Arn => {
                PolicyValue::Pattern(expand(value, ctx, vars, true))
            }
            _ => PolicyValue::Raw(value.to_string()),
        }
    }

    /// Whether a request value known only by its start (`prefix`, then unknown characters, maybe
    /// none) matches: certain when the policy value's literal head already differs, or when it
    /// is a head of the prefix followed by a lone `*`; unknown otherwise.
    fn matches_prefix(&self, prefix: &str, base: BaseOp) -> Tri {
        let tokens = match self {
            PolicyValue::Pattern(Expanded::NoValue) => return Tri::False,
            PolicyValue::Pattern(Expanded::Pattern(tokens))
                if matches!(
                    base,
                    BaseOp::StringEquals | BaseOp::StringEqualsIgnoreCase | BaseOp::StringLike
                ) =>
            {
                tokens
            }
            _ => return Tri::Unknown,
        };
        let fold = |c: char| {
            if base == BaseOp::StringEqualsIgnoreCase {
                c.to_ascii_lowercase()
            } else {
                c
            }
        };
        let head: Vec<char> = tokens
            .iter()
            .map_while(|t| match t {
                Tok::Lit(c) => Some(fold(*c)),
                _ => None,
            })
            .collect();
        let tail = &tokens[head.len()..];
        let prefix: Vec<char> = prefix.chars().map(fold).collect();
        let common = head.len().min(prefix.len());
        if head[..common] != prefix[..common] {
            return Tri::False;
        }
        if head.len() > prefix.len() {
            // The policy names more than the known prefix: the unknown rest decides.
            return Tri::Unknown;
        }
        match tail {
            // The value may be the prefix itself, or longer.
            [] if head.len() == prefix.len() => Tri::Unknown,
            [] => Tri::False,
            [Tok::Star] => Tri::True,
            _ => Tri::Unknown,
        }
    }

    fn matches(&self, request: &str, base: BaseOp) -> Tri {
        match self {
            PolicyValue::Pattern(Expanded::NoValue) => Tri::False,
            PolicyValue::Pattern(Expanded::Unknown) => Tri::Unknown,
            PolicyValue::Pattern(Expanded::Pattern(tokens)) => Tri::from_bool(match base {
                BaseOp::StringEqualsIgnoreCase => tokens_match(tokens, request, true),
                BaseOp::Arn => arn_like(tokens, request),
                _ => tokens_match(tokens, request, false),
            }),
            PolicyValue::Raw(p) => Tri::from_bool(match base {
                BaseOp::Numeric(cmp) => numeric(p, request, cmp),
                BaseOp::Date(cmp) => date(p, request, cmp),
                BaseOp::Bool => p.trim().eq_ignore_ascii_case(request.trim()),
                BaseOp::BinaryEquals => p.trim() == request.trim(),
                BaseOp::IpAddress => ip_in(p, request),
                _ => false,
            }),
        }
    }
}

fn compare<T: PartialOrd>(request: T, policy: T, cmp: Cmp) -> bool {
    match cmp {
        Cmp::Eq => request == policy,
        Cmp::Lt => request < policy,
        Cmp::Le => request <= policy,
        Cmp::Gt => request > policy,
        Cmp::Ge => request >= policy,
    }
}

/// `NumericLessThan` etc.: the request value compared with the policy value. A value that
/// is not a number matches nothing.
fn numeric(policy: &str, request: &str, cmp: Cmp) -> bool {
    match (policy.trim().parse::<f64>(), request.trim().parse::<f64>()) {
        (Ok(p), Ok(r)) => compare(r, p, cmp),
        _ => false,
    }
}

/// Parses the date forms AWS accepts: ISO 8601 (date, date-time with or without offset,
/// taken as UTC when it has none) and epoch seconds.
pub fn parse_date(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .and_then(|n| jiff::Timestamp::from_second(n).ok());
    }
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let utc = jiff::tz::TimeZone::UTC;
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return utc.to_timestamp(dt).ok();
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return utc.to_timestamp(d.at(0, 0, 0, 0)).ok();
    }
    None
}

fn date(policy: &str, request: &str, cmp: Cmp) -> bool {
    match (parse_date(policy), parse_date(request)) {
        (Some(p), Some(r)) => compare(r, p, cmp),
        _ => false,
    }
}

/// `IpAddress`: the request address lies in the policy's CIDR block; a bare address is a
/// /32 (IPv4) or /128 (IPv6).
fn ip_in(policy: &str, request: &str) -> bool {
    let policy = policy.trim();
    let net = match policy.parse::<IpNet>() {
        Ok(n) => n,
        Err(_) => match policy.parse::<IpAddr>() {
            Ok(a) => IpNet::from(a),
            Err(_) => return false,
        },
    };
    let request = request.trim();
    let addr = match request.parse::<IpAddr>() {
        Ok(a) => a,
        // A request value written as a host CIDR (`203.0.113.5/32`).
        Err(_) => match request.parse::<IpNet>() {
            Ok(n) if n.prefix_len() == n.max_prefix_len() => n.addr(),
            _ => return false,
        },
    };
    net.contains(&addr)
}

/// `ArnLike`/`ArnEquals`: compares the six `:`-separated parts of the ARN one by one, each
/// with wildcards, so a `*` does not run across a `:` between parts (it may in the last
/// part, the resource, which can itself contain `:`). A pattern with fewer than six parts
/// cannot match, except a bare `*`, which matches any value.
fn arn_like(tokens: &[Tok], request: &str) -> bool {
    let pattern_parts: Vec<&[Tok]> = split_tokens(tokens, 6);
    if pattern_parts.len() < 6 {
        return !tokens.is_empty() && tokens.iter().all(|t| *t == Tok::Star);
    }
    let request_parts: Vec<&str> = request.splitn(6, ':').collect();
    if request_parts.len() != 6 {
        return false;
    }
    pattern_parts
        .iter()
        .zip(request_parts.iter())
        .all(|(p, r)| tokens_match(p, r, false))
}

/// Splits tokens at literal `:` into at most `n` parts (the last keeps the rest).
fn split_tokens(tokens: &[Tok], n: usize) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if parts.len() + 1 == n {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    parts.push(&tokens[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: op.to_string(),
            key: key.to_string(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::strict();
        for (k, v) in pairs {
            c.add(k, v);
        }
        c
    }

    fn eval(op: &str, key: &str, values: &[&str], pairs: &[(&str, &str)]) -> Tri {
        evaluate_condition(&cond(op, key, values), &ctx(pairs), true)
    }

    #[test]
    fn strings() {
        let k = [("k", "Hello")];
        assert_eq!(eval("StringEquals", "k", &["Hello"], &k), Tri::True);
        assert_eq!(eval("StringEquals", "k", &["hello"], &k), Tri::False);
        assert_eq!(eval("StringEquals", "k", &["a", "Hello"], &k), Tri::True);
        assert_eq!(eval("StringEquals", "k", &["H*"], &k), Tri::False);
        assert_eq!(eval("StringNotEquals", "k", &["a", "b"], &k), Tri::True);
        assert_eq!(
            eval("StringNotEquals", "k", &["a", "Hello"], &k),
            Tri::False
        );
        assert_eq!(
            eval("StringEqualsIgnoreCase", "k", &["HELLO"], &k),
            Tri::True
        );
        assert_eq!(
            eval("StringNotEqualsIgnoreCase", "k", &["hello"], &k),
            Tri::False
        );
        assert_eq!(eval("StringLike", "k", &["H*o"], &k), Tri::True);
        assert_eq!(eval("StringLike", "k", &["h*"], &k), Tri::False);
        assert_eq!(eval("StringLike", "k", &["Hell?"], &k), Tri::True);
        assert_eq!(eval("StringNotLike", "k", &["x*"], &k), Tri::True);
        assert_eq!(eval("StringNotLike", "k", &["H*"], &k), Tri::False);
        // Keys are case-insensitive.
        assert_eq!(eval("StringEquals", "K", &["Hello"], &k), Tri::True);
        // Operators are read case-insensitively.
        assert_eq!(eval("stringequals", "k", &["Hello"], &k), Tri::True);
    }

    #[test]
    fn absent_keys() {
        assert_eq!(eval("StringEquals", "k", &["a"], &[]), Tri::False);
        assert_eq!(eval("StringNotEquals", "k", &["a"], &[]), Tri::True);
        assert_eq!(eval("StringNotLike", "k", &["a"], &[]), Tri::True);
        assert_eq!(eval("NumericNotEquals", "k", &["1"], &[]), Tri::True);
        assert_eq!(eval("DateNotEquals", "k", &["2020-01-01"], &[]), Tri::True);
        assert_eq!(eval("ArnNotLike", "k", &["arn:*"], &[]), Tri::True);
        assert_eq!(eval("NotIpAddress", "k", &["10.0.0.0/8"], &[]), Tri::True);
        assert_eq!(eval("NumericLessThan", "k", &["1"], &[]), Tri::False);
        assert_eq!(eval("Bool", "k", &["true"], &[]), Tri::False);
        assert_eq!(eval("StringEqualsIfExists", "k", &["a"], &[]), Tri::True);
        assert_eq!(
            eval("StringEqualsIfExists", "k", &["a"], &[("k", "b")]),
            Tri::False
        );
        assert_eq!(
            eval("StringEqualsIfExists", "k", &["a"], &[("k", "a")]),
            Tri::True
        );
        assert_eq!(
            eval("ForAnyValue:StringEquals", "k", &["a"], &[]),
            Tri::False
        );
        assert_eq!(
            eval("ForAllValues:StringEquals", "k", &["a"], &[]),
            Tri::True
        );
        assert_eq!(eval("Null", "k", &["true"], &[]), Tri::True);
        assert_eq!(eval("Null", "k", &["false"], &[]), Tri::False);
        assert_eq!(eval("Null", "k", &["true"], &[("k", "x")]), Tri::False);
        assert_eq!(eval("Null", "k", &["false"], &[("k", "x")]), Tri::True);
    }

    #[test]
    fn unknown_keys_and_operators() {
        let p = Context::partial();
        for op in [
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIfExists",
            "Null",
            "ForAllValues:StringLike",
        ] {
            assert_eq!(
                evaluate_condition(&cond(op, "k", &["a"]), &p, true),
                Tri::Unknown,
                "{op}"
            );
        }
        assert_eq!(
            evaluate_condition(&cond("StringFuzzy", "k", &["a"]), &p, true),
            Tri::Unknown
        );
        assert_eq!(
            evaluate_condition(&cond("StringFuzzy", "k", &["a"]), &Context::strict(), true),
            Tri::False
        );
        assert_eq!(
            evaluate_condition(&cond("NullIfExists", "k", &["a"]), &Context::strict(), true),
            Tri::False
        );
        // A variable in a value whose key is unknown.
        let mut c = Context::partial();
        c.add("k", "alice");
        assert_eq!(
            evaluate_condition(&cond("StringEquals", "k", &["${aws:username}"]), &c, true),
            Tri::Unknown
        );
        assert_eq!(
            evaluate_condition(
                &cond("StringEquals", "k", &["alice", "${aws:username}"]),
                &c,
                true
            ),
            Tri::True
        );
    }

    #[test]
    fn variables_in_values() {
        let c = ctx(&[("s3:prefix", "home/alice/x"), ("aws:username", "alice")]);
        let v =
            |op: &str, vals: &[&str]| evaluate_condition(&cond(op, "s3:prefix", vals), &c, true);
        assert_eq!(v("StringLike", &["home/${aws:username}/*"]), Tri::True);
        assert_eq!(v("StringLike", &["home/${aws:userid}/*"]), Tri::False);
        assert_eq!(v("StringNotLike", &["home/${aws:userid}/*"]), Tri::True);
        assert_eq!(
            v("StringLike", &["home/${aws:userid, 'alice'}/*"]),
            Tri::True
        );
        // Old documents: variables are literal text.
        assert_eq!(
            evaluate_condition(
                &cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]),
                &c,
                false
            ),
            Tri::False
        );
    }

    #[test]
    fn numbers() {
        let k = [("n", "10")];
        assert_eq!(eval("NumericEquals", "n", &["10"], &k), Tri::True);
        assert_eq!(eval("NumericEquals", "n", &["10.0"], &k), Tri::True);
        assert_eq!(eval("NumericNotEquals", "n", &["10"], &k), Tri::False);
        assert_eq!(eval("NumericLessThan", "n", &["11"], &k), Tri::True);
        assert_eq!(eval("NumericLessThan", "n", &["10"], &k), Tri::False);
        assert_eq!(eval("NumericLessThanEquals", "n", &["10"], &k), Tri::True);
        assert_eq!(eval("NumericGreaterThan", "n", &["9"], &k), Tri::True);
        assert_eq!(
            eval("NumericGreaterThanEquals", "n", &["11"], &k),
            Tri::False
        );
        assert_eq!(eval("NumericEquals", "n", &["ten"], &k), Tri::False);
    }

    #[test]
    fn dates() {
        let k = [("t", "2024-06-01T12:00:00Z")];
        assert_eq!(
            eval("DateLessThan", "t", &["2025-01-01T00:00:00Z"], &k),
            Tri::True
        );
        assert_eq!(eval("DateLessThan", "t", &["2024-01-01"], &k), Tri::False);
        assert_eq!(eval("DateGreaterThan", "t", &["2024-01-01"], &k), Tri::True);
        assert_eq!(
            eval("DateEquals", "t", &["2024-06-01T14:00:00+02:00"], &k),
            Tri::True
        );
        assert_eq!(eval("DateEquals", "t", &["1717243200"], &k), Tri::True);
        assert_eq!(eval("DateNotEquals", "t", &["1717243200"], &k), Tri::False);
        assert_eq!(
            eval("DateLessThanEquals", "t", &["2024-06-01T12:00:00"], &k),
            Tri::True
        );
        assert_eq!(
            eval("DateGreaterThanEquals", "t", &["2024-06-02"], &k),
            Tri::False
        );
        assert!(parse_date("not a date").is_none());
    }

    #[test]
    fn bool_binary_ip() {
        assert_eq!(
            eval(
                "Bool",
                "aws:SecureTransport",
                &["true"],
                &[("aws:securetransport", "true")]
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                "Bool",
                "aws:SecureTransport",
                &["false"],
                &[("aws:securetransport", "true")]
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                "Bool",
                "aws:SecureTransport",
                &["TRUE"],
                &[("aws:securetransport", "true")]
            ),
            Tri::True
        );
        assert_eq!(
            eval("BinaryEquals", "b", &["QmluYXJ5"], &[("b", "QmluYXJ5")]),
            Tri::True
        );
        assert_eq!(
            eval("BinaryEquals", "b", &["QmluYXJ5"], &[("b", "qmluyxj5")]),
            Tri::False
        );
        let ip = [("aws:SourceIp", "203.0.113.7")];
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &ip),
            Tri::True
        );
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["203.0.113.7"], &ip),
            Tri::True
        );
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["198.51.100.0/24"], &ip),
            Tri::False
        );
        assert_eq!(
            eval("NotIpAddress", "aws:SourceIp", &["198.51.100.0/24"], &ip),
            Tri::True
        );
        assert_eq!(
            eval("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"], &ip),
            Tri::False
        );
        let ip6 = [("aws:SourceIp", "2001:db8:1::5")];
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &ip6),
            Tri::True
        );
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["2001:db9::/32"], &ip6),
            Tri::False
        );
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &ip6),
            Tri::False
        );
        assert_eq!(
            eval("IpAddress", "aws:SourceIp", &["garbage"], &ip),
            Tri::False
        );
    }

    #[test]
    fn arns() {
        let k = [("aws:SourceArn", "arn:aws:s3:::bucket/a:b")];
        assert_eq!(
            eval(
                "ArnEquals",
                "aws:SourceArn",
                &["arn:aws:s3:::bucket/a:b"],
                &k
            ),
            Tri::True
        );
        assert_eq!(
            eval("ArnLike", "aws:SourceArn", &["arn:aws:s3:::bucket/*"], &k),
            Tri::True
        );
        assert_eq!(
            eval("ArnLike", "aws:SourceArn", &["arn:aws:s3:::*"], &k),
            Tri::True
        );
        assert_eq!(
            eval("ArnLike", "aws:SourceArn", &["arn:aws:s3:::other/*"], &k),
            Tri::False
        );
        assert_eq!(
            eval("ArnNotLike", "aws:SourceArn", &["arn:aws:s3:::other/*"], &k),
            Tri::True
        );
        assert_eq!(
            eval(
                "ArnNotEquals",
                "aws:SourceArn",
                &["arn:aws:s3:::bucket/a:b"],
                &k
            ),
            Tri::False
        );
        let r = [("aws:PrincipalArn", "arn:aws:iam::111122223333:role/x")];
        // A `*` in one part does not run into the next part.
        assert_eq!(
            eval(
                "ArnLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::*:role/x"],
                &r
            ),
            Tri::True
        );
        assert_eq!(
            eval("ArnLike", "aws:PrincipalArn", &["arn:*:role/x"], &r),
            Tri::False
        );
        assert_eq!(eval("ArnLike", "aws:PrincipalArn", &["*"], &r), Tri::True);
        assert_eq!(
            eval(
                "ArnLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::*:*"],
                &[("aws:PrincipalArn", "not-an-arn")]
            ),
            Tri::False
        );
    }

    #[test]
    fn set_operators() {
        let mut c = Context::strict();
        c.add("aws:TagKeys", "a").add("aws:TagKeys", "b");
        let e =
            |op: &str, vals: &[&str]| evaluate_condition(&cond(op, "aws:TagKeys", vals), &c, true);
        assert_eq!(e("ForAllValues:StringEquals", &["a", "b", "c"]), Tri::True);
        assert_eq!(e("ForAllValues:StringEquals", &["a"]), Tri::False);
        assert_eq!(e("ForAnyValue:StringEquals", &["a"]), Tri::True);
        assert_eq!(e("ForAnyValue:StringEquals", &["c"]), Tri::False);
        assert_eq!(e("ForAnyValue:StringNotEquals", &["a"]), Tri::True);
        assert_eq!(e("ForAllValues:StringNotEquals", &["c"]), Tri::True);
        assert_eq!(e("ForAllValues:StringNotEquals", &["a"]), Tri::False);
        assert_eq!(e("ForAnyValue:StringLike", &["x*", "b*"]), Tri::True);
        assert_eq!(e("ForAllValues:StringLikeIfExists", &["*"]), Tri::True);
    }

    #[test]
    fn operator_parsing() {
        let op = parse_operator("ForAllValues:StringNotLikeIfExists").unwrap();
        assert_eq!(op.set, Some(SetOp::ForAllValues));
        assert_eq!(op.base, BaseOp::StringLike);
        assert!(op.negated && op.if_exists);
        assert!(parse_operator("StringEqualsCaseInsensitive").is_none());
        assert!(is_known_operator("NumericLessThanEqualsIfExists"));
    }

    #[test]
    fn one_of_decides_only_when_every_alternative_agrees() {
        let mut c = Context::partial();
        c.set_one_of(
            "s3:TlsVersion",
            vec![vec!["1.2".into()], vec!["1.3".into()]],
        );
        let e = |op: &str, v: &str| evaluate_condition(&cond(op, "s3:TlsVersion", &[v]), &c, true);
        assert_eq!(e("NumericLessThan", "1.2"), Tri::False);
        assert_eq!(e("NumericGreaterThanEquals", "1.2"), Tri::True);
        assert_eq!(e("NumericLessThan", "1.3"), Tri::Unknown);
    }

    #[test]
    fn a_known_prefix_decides_what_it_can() {
        let mut c = Context::partial();
        c.set_prefixed("aws:userid", "AROAEXAMPLEID:");
        let e = |op: &str, v: &[&str]| evaluate_condition(&cond(op, "aws:userid", v), &c, true);
        assert_eq!(e("StringLike", &["AROAEXAMPLEID:*"]), Tri::True);
        assert_eq!(e("StringLike", &["AROA*"]), Tri::True);
        assert_eq!(
            e("StringNotLike", &["AROAEXAMPLEID:*", "111122223333"]),
            Tri::False
        );
        assert_eq!(e("StringNotLike", &["AROAOTHERID:*"]), Tri::True);
        assert_eq!(e("StringEquals", &["AROAEXAMPLEID:alice"]), Tri::Unknown);
        assert_eq!(e("StringEquals", &["AROAEXAMPLEID:"]), Tri::Unknown);
        assert_eq!(e("StringEquals", &["AROAEXAMPLE"]), Tri::False);
        assert_eq!(e("StringEquals", &["111122223333"]), Tri::False);
        assert_eq!(
            e("StringEqualsIgnoreCase", &["aroaexampleid:alice"]),
            Tri::Unknown
        );
        assert_eq!(
            e("StringEqualsIgnoreCase", &["aroaotherid:alice"]),
            Tri::False
        );
        assert_eq!(e("StringLike", &["*:alice"]), Tri::Unknown);
        assert_eq!(e("Null", &["true"]), Tri::False);
        assert_eq!(e("Null", &["false"]), Tri::True);
    }
}
