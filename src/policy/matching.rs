//! Matching the parts of a statement against a request: actions, resources (with policy
//! variables) and principals, plus the three-valued logic ([`Tri`]) the evaluator uses.
//!
//! Pure: no I/O. The rules come from the IAM JSON policy element reference:
//! - Action: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
//!   (service prefix and action name are case-insensitive; `*` and `?` wildcards).
//! - Resource: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>
//!   (ARNs are case-sensitive; `*` and `?` may appear anywhere and `*` spans `/` and `:`).
//! - Variables: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>
//! - Principal: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>

use crate::arn::ArnRef;

use super::{ActionSpec, Context, KeyState, PrincipalSpec, Principals, ResourceSpec};

/// A three-valued truth: the evaluator may not know a context key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }

    /// Kleene AND: false wins, then unknown.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    /// Kleene OR: true wins, then unknown.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// OR over an iterator (false when empty).
    pub fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
        let mut acc = Tri::False;
        for t in items {
            acc = acc.or(t);
            if acc == Tri::True {
                break;
            }
        }
        acc
    }

    /// AND over an iterator (true when empty).
    pub fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
        let mut acc = Tri::True;
        for t in items {
            acc = acc.and(t);
            if acc == Tri::False {
                break;
            }
        }
        acc
    }
}

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Lit(char),
    /// `*`: any sequence, including an empty one.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A pattern after policy-variable substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expanded {
    Pattern(Vec<Tok>),
    /// A variable has no value (key absent, or multi-valued) and no default: the pattern
    /// matches nothing.
    NoValue,
    /// A variable's value is unknown to the tool.
    Unknown,
}

/// Glob match over tokens. Iterative with single-star backtracking: linear in practice and
/// never recursive, so hostile input cannot blow the stack.
pub fn tokens_match(tokens: &[Tok], text: &str, ignore_case: bool) -> bool {
    glob(|i| tokens.get(i).map(|&t| (t, i + 1)), text, ignore_case)
}

/// [`tokens_match`] over a pattern still in text form, without compiling it: the common case
/// (no policy variable), done for every statement of every decision.
fn text_pattern_match(pattern: &str, text: &str, wildcards: bool, ignore_case: bool) -> bool {
    let token_at = |i: usize| {
        let c = pattern[i..].chars().next()?;
        let tok = match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        };
        Some((tok, i + c.len_utf8()))
    };
    glob(token_at, text, ignore_case)
}

/// The matcher behind both: `token_at(position)` gives the pattern's token there and the
/// position after it; positions in `text` are byte offsets, so nothing is allocated.
fn glob(token_at: impl Fn(usize) -> Option<(Tok, usize)>, text: &str, ignore_case: bool) -> bool {
    let eq = |a: char, b: char| {
        a == b
            || (ignore_case
                && if a.is_ascii() && b.is_ascii() {
                    a.eq_ignore_ascii_case(&b)
                } else {
                    a.to_lowercase().eq(b.to_lowercase())
                })
    };
    let (mut p, mut t) = (0usize, 0usize);
    // After a `*`: the pattern position just past it, and where in the text it started.
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = text[t..].chars().next() {
        match token_at(p) {
            Some((Tok::Star, after)) => {
                star = Some((after, t));
                p = after;
                continue;
            }
            Some((Tok::One, after)) => {
                p = after;
                t += c.len_utf8();
                continue;
            }
            Some((Tok::Lit(l), after)) if eq(l, c) => {
                p = after;
                t += c.len_utf8();
                continue;
            }
            _ => {}
        }
        match star {
            Some((after, from)) => {
                // The star swallows one more character.
                let from = from + text[from..].chars().next().map_or(1, char::len_utf8);
                p = after;
                t = from;
                star = Some((after, from));
            }
            None => return false,
        }
    }
    while let Some((Tok::Star, after)) = token_at(p) {
        p = after;
    }
    token_at(p).is_none()
}

/// Compiles a plain pattern (no variables): `*` and `?` are wildcards when `wildcards`.
pub fn compile(pattern: &str, wildcards: bool) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// Case-sensitive glob match with `*` and `?`.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    text_pattern_match(pattern, text, true, false)
}

/// Case-insensitive glob match with `*` and `?`.
pub fn wildcard_match_ignore_case(pattern: &str, text: &str) -> bool {
    text_pattern_match(pattern, text, true, true)
}

/// True when an `Action` pattern (`s3:*`, `s3:*Object`, `*`) covers an action. Both the
/// service prefix and the action name are case-insensitive.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match_ignore_case(pattern, action)
}

/// `Action` matches if any pattern matches; `NotAction` if none does.
pub fn action_spec_matches(spec: &ActionSpec, action: &str) -> bool {
    match spec {
        ActionSpec::Action(list) => list.iter().any(|p| action_matches(p, action)),
        ActionSpec::NotAction(list) => !list.iter().any(|p| action_matches(p, action)),
    }
}

/// Substitutes policy variables in `text` and compiles the result.
///
/// `vars`: whether variables are recognised at all. AWS only substitutes them in documents
/// with `"Version": "2012-10-17"`; in older or version-less documents `${...}` is literal
/// text (see "Policy variables" → "Where you can use policy variables").
/// `wildcards`: whether a literal `*`/`?` written in the text is a wildcard (Resource,
/// `...Like` operators) or a plain character (`...Equals` operators). The escapes `${*}`,
/// `${?}` and `${$}` always produce the literal character.
///
/// A variable takes a key's single value; a key that is absent, or multi-valued (AWS: "you
/// can't use multivalued context keys as policy variables"), uses the default of the
/// `${key, 'default'}` form, or else leaves the pattern without a value. An unknown key makes
/// the whole pattern unknown.
pub fn expand(text: &str, ctx: &Context, vars: bool, wildcards: bool) -> Expanded {
    if !vars || !text.contains("${") {
        return Expanded::Pattern(compile(text, wildcards));
    }
    let mut out: Vec<Tok> = Vec::new();
    let mut no_value = false;
    let mut unknown = false;
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.extend(compile(&rest[..start], wildcards));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // Unterminated: the remainder is literal text.
            out.extend(compile(&rest[start..], wildcards));
            rest = "";
            break;
        };
        let inner = &after[..end];
        match inner {
            "*" => out.push(Tok::Lit('*')),
            "?" => out.push(Tok::Lit('?')),
            "$" => out.push(Tok::Lit('$')),
            _ => {
                let (key, default) = split_default(inner);
                match ctx.get(key) {
                    KeyState::Present(values) if values.len() == 1 => {
                        out.extend(values[0].chars().map(Tok::Lit));
                    }
                    KeyState::Present(_) | KeyState::Absent => match default {
                        Some(v) => out.extend(v.chars().map(Tok::Lit)),
                        None => no_value = true,
                    },
                    KeyState::Unknown | KeyState::OneOf(_) | KeyState::Prefixed(_) => {
                        unknown = true
                    }
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.extend(compile(rest, wildcards));
    if no_value {
        Expanded::NoValue
    } else if unknown {
        Expanded::Unknown
    } else {
        Expanded::Pattern(out)
    }
}

/// Splits `key, 'default'` (AWS's default-value form) into the key and the default.
fn split_default(inner: &str) -> (&str, Option<String>) {
    if let Some((key, def)) = inner.split_once(',') {
        let def = def.trim();
        if def.len() >= 2 && def.starts_with('\'') && def.ends_with('\'') {
            return (key.trim(), Some(def[1..def.len() - 1].to_string()));
        }
    }
    (inner.trim(), None)
}

/// True when `text` contains a policy variable (other than the `${*}`-style escapes).
pub fn has_variable(text: &str) -> bool {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                if !matches!(&after[..end], "*" | "?" | "$") {
                    return true;
                }
                rest = &after[end + 1..];
            }
            None => return false,
        }
    }
    false
}

/// Matches one `Resource` pattern against a resource ARN (case-sensitive, `*`/`?`,
/// variables substituted).
pub fn resource_matches(pattern: &str, resource: &str, ctx: &Context, vars: bool) -> Tri {
    if !vars || !pattern.contains("${") {
        return Tri::from_bool(text_pattern_match(pattern, resource, true, false));
    }
    match expand(pattern, ctx, vars, true) {
        Expanded::Pattern(tokens) => Tri::from_bool(tokens_match(&tokens, resource, false)),
        Expanded::NoValue => Tri::False,
        Expanded::Unknown => Tri::Unknown,
    }
}

/// `Resource` matches if any pattern matches; `NotResource` if none does.
pub fn resource_spec_matches(
    spec: &ResourceSpec,
    resource: &str,
    ctx: &Context,
    vars: bool,
) -> Tri {
    match spec {
        ResourceSpec::Resource(list) => Tri::any(
            list.iter()
                .map(|p| resource_matches(p, resource, ctx, vars)),
        ),
        ResourceSpec::NotResource(list) => Tri::any(
            list.iter()
                .map(|p| resource_matches(p, resource, ctx, vars)),
        )
        .not(),
    }
}

/// How a statement's principal element covers the calling principal. The distinction
/// matters for resource policies: naming the account root delegates to the account's IAM
/// policies rather than granting anything directly
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalMatch {
    No,
    /// `"*"`, `{"AWS": "*"}`, or a `NotPrincipal` that does not exclude the caller.
    Any,
    /// The policy names the caller's exact ARN (or service name).
    Exact,
    /// The caller is a session of a role the policy names (`assumed-role/ROLE/SESSION` vs
    /// `role/PATH/ROLE`).
    Role,
    /// The policy names the caller's account (`arn:aws:iam::ACCT:root` or `ACCT`).
    AccountRoot,
}

impl PrincipalMatch {
    /// A grant to the principal itself, not to its account.
    pub fn is_direct(self) -> bool {
        matches!(
            self,
            PrincipalMatch::Any | PrincipalMatch::Exact | PrincipalMatch::Role
        )
    }

    pub fn matched(self) -> bool {
        self != PrincipalMatch::No
    }
}

/// True for a service principal such as `s3.amazonaws.com` (not an ARN, not an account).
pub fn is_service_principal(principal: &str) -> bool {
    !principal.starts_with("arn:")
        && principal.contains('.')
        && principal
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// The parts of an `assumed-role` session ARN: (partition, account, role name).
fn assumed_role_parts(principal: &str) -> Option<(&str, &str, &str)> {
    let arn = ArnRef::parse(principal).filter(|a| a.service == "sts")?;
    let rest = arn.resource.strip_prefix("assumed-role/")?;
    let role = rest.split('/').next()?;
    (!role.is_empty()).then_some((arn.partition, arn.account, role))
}

/// The parts of an IAM role ARN: (partition, account, role name without its path).
fn role_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let arn = ArnRef::parse(arn).filter(|a| a.service == "iam")?;
    let rest = arn.resource.strip_prefix("role/")?;
    let name = rest.rsplit('/').next()?;
    (!name.is_empty()).then_some((arn.partition, arn.account, name))
}

/// The account named by an account principal: `ACCT` or `arn:PARTITION:iam::ACCT:root`.
fn account_root(value: &str) -> Option<&str> {
    if crate::arn::is_account_id(value) {
        return Some(value);
    }
    ArnRef::parse(value)
        .filter(|a| a.service == "iam" && a.resource == "root")
        .map(|a| a.account)
}

/// What principal matching needs to know of the caller, read once per principal block rather
/// than once per value.
struct CallerParts<'a> {
    arn: &'a str,
    service: bool,
    account: Option<&'a str>,
    /// (partition, account, role name) for a role session.
    session: Option<(&'a str, &'a str, &'a str)>,
}

impl<'a> CallerParts<'a> {
    fn of(caller: &'a str) -> Self {
        CallerParts {
            arn: caller,
            service: is_service_principal(caller),
            account: crate::arn::account_in(caller),
            session: assumed_role_parts(caller),
        }
    }
}

/// Matches one value of an `AWS` principal list against the caller.
fn aws_value_matches(value: &str, caller: &CallerParts<'_>) -> PrincipalMatch {
    if value == "*" {
        // `{"AWS": "*"}` is any AWS principal (not a service principal).
        return if caller.service {
            PrincipalMatch::No
        } else {
            PrincipalMatch::Any
        };
    }
    if value == caller.arn {
        return PrincipalMatch::Exact;
    }
    if let Some((cp, ca, crole)) = caller.session
        && let Some((vp, va, vrole)) = role_parts(value)
    {
        // A role principal covers its sessions; the role's path is not in the session ARN,
        // so compare partition, account and role name.
        if vp == cp && va == ca && vrole == crole {
            return PrincipalMatch::Role;
        }
    }
    if caller.account.is_some() && account_root(value) == caller.account {
        return PrincipalMatch::AccountRoot;
    }
    PrincipalMatch::No
}

/// The best match of a principal block against the caller (a direct match is preferred
/// over an account-root one).
pub fn principals_match(principals: &Principals, caller: &str) -> PrincipalMatch {
    let map = match principals {
        Principals::Any => return PrincipalMatch::Any,
        Principals::Map(map) => map,
    };
    let mut best = PrincipalMatch::No;
    let parts = CallerParts::of(caller);
    for (kind, values) in map {
        for value in values {
            let m = match kind.as_str() {
                "AWS" => aws_value_matches(value, &parts),
                "Service" => {
                    if value.eq_ignore_ascii_case(caller) {
                        PrincipalMatch::Exact
                    } else {
                        PrincipalMatch::No
                    }
                }
                // Federated providers and canonical user IDs are compared as written.
                _ => {
                    if value == caller {
                        PrincipalMatch::Exact
                    } else {
                        PrincipalMatch::No
                    }
                }
            };
            best = better(best, m);
        }
    }
    best
}

fn better(a: PrincipalMatch, b: PrincipalMatch) -> PrincipalMatch {
    let rank = |m: PrincipalMatch| match m {
        PrincipalMatch::No => 0,
        PrincipalMatch::AccountRoot => 1,
        PrincipalMatch::Any => 2,
        PrincipalMatch::Role => 3,
        PrincipalMatch::Exact => 4,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// `Principal` as [`principals_match`]. `NotPrincipal` applies to every caller it does not
/// exclude, and then counts as a grant to (or denial of) the caller itself. Which callers it
/// excludes depends on the statement's effect (`deny`), reading each the way that errs
/// toward refusing access:
///
/// - With `Deny`, AWS excludes a caller only when the element names the caller's own ARN and
///   also its account (and, for a role session, its role); otherwise "the policy might deny
///   access to the entire account containing the principal"
///   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>).
///   Since AWS leaves it to the service, the strict reading is used: all must be listed.
/// - With `Allow`, "the permissions specified in the policy statement will be granted to all
///   principals except for the ones specified" (same page, earlier edition:
///   <https://github.com/awsdocs/iam-user-guide/blob/614c30d1d9ac171ed8d245f126a71db083b250fc/doc_source/reference_policies_elements_notprincipal.md>;
///   AWS now calls the combination unsupported). A caller is excluded when anything listed
///   covers it: its ARN, its role (for a session), its account, or `*`.
pub fn principal_spec_matches(spec: &PrincipalSpec, caller: &str, deny: bool) -> PrincipalMatch {
    match spec {
        PrincipalSpec::Principal(p) => principals_match(p, caller),
        PrincipalSpec::NotPrincipal(p) => {
            let excluded = if deny {
                not_principal_excludes(p, caller)
            } else {
                principals_match(p, caller).matched()
            };
            if excluded {
                PrincipalMatch::No
            } else {
                PrincipalMatch::Any
            }
        }
    }
}

/// Whether a `NotPrincipal` list exempts the caller (see [`principal_spec_matches`]).
fn not_principal_excludes(principals: &Principals, caller: &str) -> bool {
    let map = match principals {
        Principals::Any => return true,
        Principals::Map(map) => map,
    };
    let values = |kind: &str| map.get(kind).map(Vec::as_slice).unwrap_or(&[]);
    if is_service_principal(caller) {
        return values("Service")
            .iter()
            .any(|v| v.eq_ignore_ascii_case(caller));
    }
    let named = map
        .iter()
        .any(|(kind, vs)| kind != "Service" && vs.iter().any(|v| v == caller));
    if !named {
        return false;
    }
    let aws = values("AWS");
    let account_listed = match crate::arn::account_in(caller) {
        Some(acct) => aws.iter().any(|v| account_root(v) == Some(acct)),
        None => true,
    };
    let role_listed = match assumed_role_parts(caller) {
        Some(session) => aws.iter().any(|v| role_parts(v) == Some(session)),
        None => true,
    };
    // The account root caller itself needs nothing more than its own ARN.
    (account_listed && role_listed) || account_root(caller).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn aws(values: &[&str]) -> Principals {
        let mut m = BTreeMap::new();
        m.insert(
            "AWS".to_string(),
            values.iter().map(|s| s.to_string()).collect(),
        );
        Principals::Map(m)
    }

    #[test]
    fn tri_logic() {
        use Tri::*;
        assert_eq!(True.and(Unknown), Unknown);
        assert_eq!(False.and(Unknown), False);
        assert_eq!(True.or(Unknown), True);
        assert_eq!(False.or(Unknown), Unknown);
        assert_eq!(Unknown.not(), Unknown);
        assert_eq!(Tri::any([]), False);
        assert_eq!(Tri::all([]), True);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("**", "x"));
        assert!(!wildcard_match("abc", "ABC"));
        assert!(wildcard_match_ignore_case("abc", "ABC"));
    }

    #[test]
    fn actions_are_case_insensitive() {
        assert!(action_matches("s3:*", "s3:GetObject"));
        assert!(action_matches("S3:getobject", "s3:GetObject"));
        assert!(action_matches("s3:*Object", "s3:PutObject"));
        assert!(!action_matches("s3:*Object", "s3:ListBucket"));
        assert!(action_matches("s3:Get?bject", "s3:GetObject"));
        assert!(action_matches("*", "kms:Decrypt"));
        assert!(!action_matches(
            "s3:ListBucketMultipartUpload",
            "s3:ListBucketMultipartUploads"
        ));
        assert!(!action_spec_matches(
            &ActionSpec::NotAction(vec!["s3:*".into()]),
            "s3:GetObject"
        ));
        assert!(action_spec_matches(
            &ActionSpec::NotAction(vec!["iam:*".into()]),
            "s3:GetObject"
        ));
    }

    #[test]
    fn resources_are_case_sensitive_and_star_spans_separators() {
        let ctx = Context::strict();
        assert_eq!(
            resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", &ctx, true),
            Tri::True
        );
        assert_eq!(
            resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b", &ctx, true),
            Tri::False
        );
        assert_eq!(
            resource_matches("arn:aws:s3:::B/*", "arn:aws:s3:::b/x", &ctx, true),
            Tri::False
        );
        assert_eq!(
            resource_matches("arn:aws:s3:::*", "arn:aws:s3:::b/x:y", &ctx, true),
            Tri::True
        );
        assert_eq!(
            resource_matches("*", "arn:aws:kms:us-east-1:1:key/x", &ctx, true),
            Tri::True
        );
    }

    #[test]
    fn variables() {
        let mut ctx = Context::strict();
        ctx.add("aws:username", "alice");
        ctx.add("aws:PrincipalTag/team", "blue");
        let r = |p: &str, res: &str, ctx: &Context| resource_matches(p, res, ctx, true);
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:username}/*",
                "arn:aws:s3:::b/alice/f",
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:username}/*",
                "arn:aws:s3:::b/bob/f",
                &ctx
            ),
            Tri::False
        );
        assert_eq!(
            r(
                "arn:aws:s3:::b/${AWS:UserName}/*",
                "arn:aws:s3:::b/alice/f",
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:PrincipalTag/team}",
                "arn:aws:s3:::b/blue",
                &ctx
            ),
            Tri::True
        );
        // Absent key: no match; with a default: the default.
        assert_eq!(
            r("arn:aws:s3:::b/${aws:userid}", "arn:aws:s3:::b/", &ctx),
            Tri::False
        );
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:userid, 'shared'}",
                "arn:aws:s3:::b/shared",
                &ctx
            ),
            Tri::True
        );
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:userid,'shared'}",
                "arn:aws:s3:::b/shared",
                &ctx
            ),
            Tri::True
        );
        // Escapes are literal characters, never wildcards.
        assert_eq!(
            r("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", &ctx),
            Tri::True
        );
        assert_eq!(
            r("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", &ctx),
            Tri::False
        );
        assert_eq!(
            r("arn:aws:s3:::b/${?}${$}", "arn:aws:s3:::b/?$", &ctx),
            Tri::True
        );
        // Without variable support (old Version), `${...}` is literal.
        assert_eq!(
            resource_matches(
                "arn:aws:s3:::b/${aws:username}",
                "arn:aws:s3:::b/alice",
                &ctx,
                false
            ),
            Tri::False
        );
        // Unknown key: unknown; absent wins over unknown.
        let partial = Context::partial();
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:username}",
                "arn:aws:s3:::b/x",
                &partial
            ),
            Tri::Unknown
        );
        let mut mixed = Context::partial();
        mixed.set_absent("aws:userid");
        assert_eq!(
            r(
                "arn:aws:s3:::b/${aws:username}/${aws:userid}",
                "arn:aws:s3:::b/x/y",
                &mixed
            ),
            Tri::False
        );
        // A multi-valued key is not a variable.
        let mut multi = Context::strict();
        multi.add("k", "a").add("k", "b");
        assert_eq!(
            r("arn:aws:s3:::b/${k}", "arn:aws:s3:::b/a", &multi),
            Tri::False
        );
        assert!(has_variable("a${aws:username}"));
        assert!(!has_variable("a${*}b"));
    }

    #[test]
    fn principals() {
        let role = "arn:aws:iam::111122223333:role/app";
        let session = "arn:aws:sts::111122223333:assumed-role/app/s1";
        assert_eq!(
            principals_match(&Principals::Any, role),
            PrincipalMatch::Any
        );
        assert_eq!(principals_match(&aws(&["*"]), role), PrincipalMatch::Any);
        assert_eq!(
            principals_match(&aws(&["*"]), "s3.amazonaws.com"),
            PrincipalMatch::No
        );
        assert_eq!(principals_match(&aws(&[role]), role), PrincipalMatch::Exact);
        assert_eq!(
            principals_match(&aws(&[role]), session),
            PrincipalMatch::Role
        );
        assert_eq!(
            principals_match(&aws(&["arn:aws:iam::111122223333:role/path/app"]), session),
            PrincipalMatch::Role
        );
        assert_eq!(
            principals_match(&aws(&["arn:aws:iam::999999999999:role/app"]), session),
            PrincipalMatch::No
        );
        assert_eq!(
            principals_match(&aws(&["arn:aws:iam::111122223333:root"]), role),
            PrincipalMatch::AccountRoot
        );
        assert_eq!(
            principals_match(&aws(&["111122223333"]), session),
            PrincipalMatch::AccountRoot
        );
        assert_eq!(
            principals_match(&aws(&["222222222222"]), role),
            PrincipalMatch::No
        );
        // Direct beats root when both are listed.
        assert_eq!(
            principals_match(&aws(&["arn:aws:iam::111122223333:root", role]), role),
            PrincipalMatch::Exact
        );
        let mut svc = BTreeMap::new();
        svc.insert("Service".to_string(), vec!["s3.amazonaws.com".to_string()]);
        let svc = Principals::Map(svc);
        assert_eq!(
            principals_match(&svc, "s3.amazonaws.com"),
            PrincipalMatch::Exact
        );
        assert_eq!(principals_match(&svc, role), PrincipalMatch::No);
        // NotPrincipal exempts the caller only with its account (and role) listed too.
        let root = "arn:aws:iam::111122223333:root";
        let not = PrincipalSpec::NotPrincipal(aws(&[role, root]));
        assert_eq!(principal_spec_matches(&not, role, true), PrincipalMatch::No);
        assert_eq!(
            principal_spec_matches(&not, "arn:aws:iam::111122223333:role/other", true),
            PrincipalMatch::Any
        );
        let role_only = PrincipalSpec::NotPrincipal(aws(&[role]));
        assert_eq!(
            principal_spec_matches(&role_only, role, true),
            PrincipalMatch::Any
        );
        // The role alone does not exempt its sessions; session + role + account does.
        assert_eq!(
            principal_spec_matches(&not, session, true),
            PrincipalMatch::Any
        );
        let all = PrincipalSpec::NotPrincipal(aws(&[session, role, root]));
        assert_eq!(
            principal_spec_matches(&all, session, true),
            PrincipalMatch::No
        );
        let no_role = PrincipalSpec::NotPrincipal(aws(&[session, root]));
        assert_eq!(
            principal_spec_matches(&no_role, session, true),
            PrincipalMatch::Any
        );
        assert!(is_service_principal("s3.amazonaws.com"));
        assert!(!is_service_principal(role));
    }

    #[test]
    fn issue11_d8b_allow_not_principal_grants_everyone_except_the_named() {
        let role = "arn:aws:iam::111122223333:role/app";
        let session = "arn:aws:sts::111122223333:assumed-role/app/s1";
        let other = "arn:aws:iam::111122223333:role/other";
        let partner = "arn:aws:iam::444455556666:role/ext";
        // With Allow, naming the role alone excludes it (and its sessions).
        let role_only = PrincipalSpec::NotPrincipal(aws(&[role]));
        assert_eq!(
            principal_spec_matches(&role_only, role, false),
            PrincipalMatch::No
        );
        assert_eq!(
            principal_spec_matches(&role_only, session, false),
            PrincipalMatch::No
        );
        assert_eq!(
            principal_spec_matches(&role_only, other, false),
            PrincipalMatch::Any
        );
        assert_eq!(
            principal_spec_matches(&role_only, partner, false),
            PrincipalMatch::Any
        );
        // An account listed excludes every principal of it.
        let account = PrincipalSpec::NotPrincipal(aws(&["111122223333"]));
        assert_eq!(
            principal_spec_matches(&account, other, false),
            PrincipalMatch::No
        );
        assert_eq!(
            principal_spec_matches(&account, partner, false),
            PrincipalMatch::Any
        );
        assert!(!is_service_principal("111122223333"));
    }
}
