//! `input.values`: the values entered in AoC are well formed and consistent. Also turns the
//! raw attachment into typed [`Values`] that the other checks use; a check that needs a value
//! that is malformed here is `skip` rather than guessing.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::{CheckDef, Finding, Input};
use crate::arn::Arn;
use crate::policy::{ActionSpec, Effect, PrincipalSpec, Principals};
use crate::spec::{AocTrust, Attachment};

pub const DEF: CheckDef = CheckDef {
    id: "input.values",
    reasons: &[
        "ok",
        "unknown-region",
        "bad-bucket-name",
        "bad-path",
        "bad-kms-key",
        "key-region-mismatch",
        "alias-arn",
        "bare-key-id",
        "bad-role-arn",
        "partition-mismatch",
        "bad-aoc-principal",
        "bad-external-id",
        "aoc-trust-incomplete",
        "trimmed",
        "bucket-looks-like-endpoint",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    if input.values.problems.is_empty() {
        let a = input.attachment;
        return vec![
            Finding::pass("ok")
                .var("region", &a.region)
                .var("bucket", &a.bucket)
                .var("path", &a.path)
                .evidence(format!("region `{}`", a.region))
                .evidence(format!("bucket `{}`, path `{}`", a.bucket, a.path))
                .evidence(format!("KMS key `{}`", a.kms_key))
                .evidence(format!("role `{}`", a.role_arn)),
        ];
    }
    input.values.problems.clone()
}

/// How the KMS key was entered in AoC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsKeyRef {
    /// `arn:aws:kms:REGION:ACCOUNT:key/ID`
    Key(Arn),
    /// `arn:aws:kms:REGION:ACCOUNT:alias/NAME`
    Alias(Arn),
    /// A bare key ID; region and account are those of the attachment.
    BareId(String),
}

impl KmsKeyRef {
    /// The key ARN when it is known from the value itself.
    pub fn key_arn(&self) -> Option<String> {
        match self {
            KmsKeyRef::Key(arn) => Some(arn.to_string()),
            _ => None,
        }
    }

    pub fn arn(&self) -> Option<&Arn> {
        match self {
            KmsKeyRef::Key(a) | KmsKeyRef::Alias(a) => Some(a),
            KmsKeyRef::BareId(_) => None,
        }
    }

    /// The alias name (`alias/x`) when an alias ARN was given.
    pub fn alias_name(&self) -> Option<&str> {
        match self {
            KmsKeyRef::Alias(a) => Some(&a.resource),
            _ => None,
        }
    }

    /// The key as entered, without the whitespace [`Values`] trims.
    pub fn entered(&self) -> String {
        match self {
            KmsKeyRef::Key(a) | KmsKeyRef::Alias(a) => a.to_string(),
            KmsKeyRef::BareId(id) => id.clone(),
        }
    }
}

/// The KMS key as entered, trimmed (see [`trimmed`]): for text that names it.
pub fn entered_kms_key(input: &Input<'_>) -> String {
    input
        .values
        .key
        .as_ref()
        .map(KmsKeyRef::entered)
        .unwrap_or_else(|| input.attachment.kms_key.trim().to_string())
}

/// A copy of the attachment with surrounding whitespace removed from the values where it
/// cannot belong (region, bucket, key, role, AoC's principal and external ID), and a
/// `trimmed` warning for each: a value pasted with a trailing space or line break otherwise
/// fails far from its cause ("another key than the AoC key" showing two identical ARNs).
/// The path is kept as entered (spaces are valid in object keys).
fn trimmed(a: &Attachment, problems: &mut Vec<Finding>) -> Attachment {
    let mut out = a.clone();
    let mut trim = |what: &str, value: &mut String| {
        let t = value.trim();
        if t.len() != value.len() && !t.is_empty() {
            problems.push(
                Finding::warn("trimmed")
                    .var("what", what)
                    .var("value", t)
                    .evidence(format!(
                        "{what} `{}` ({} characters) had surrounding whitespace; judged as `{t}`",
                        value.escape_debug(),
                        value.chars().count()
                    )),
            );
            *value = t.to_string();
        }
    };
    trim("region", &mut out.region);
    trim("bucket", &mut out.bucket);
    trim("KMS key", &mut out.kms_key);
    trim("role ARN", &mut out.role_arn);
    if let Some(p) = out.aoc_trust.aoc_principal.as_mut() {
        trim("AoC principal", p);
    }
    if let Some(id) = out.aoc_trust.external_id.as_mut() {
        trim("external ID", id);
    }
    out
}

/// The attachment's values, typed. `None` where the value is malformed (the problem is in
/// `problems`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    pub region: Option<String>,
    pub partition: Option<String>,
    pub bucket: Option<String>,
    /// The object key prefix that the path stands for: `` for `/`, `data/` for `/data`.
    pub prefix: Option<String>,
    pub key: Option<KmsKeyRef>,
    pub role: Option<Arn>,
    /// AoC's principal (the IBM role that assumes the customer's role).
    pub aoc_principal: Option<String>,
    /// AoC's external ID.
    pub external_id: Option<String>,
    /// `input.values` findings (fail and warn); empty when all is well.
    pub problems: Vec<Finding>,
}

#[derive(Deserialize)]
struct RegionsFile {
    partitions: BTreeMap<String, PartitionRegions>,
}

#[derive(Deserialize)]
struct PartitionRegions {
    regions: Vec<String>,
}

/// Region name → partition, from `checks/regions.toml`.
static REGIONS: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    let file: RegionsFile =
        toml::from_str(include_str!("../../checks/regions.toml")).unwrap_or(RegionsFile {
            partitions: BTreeMap::new(),
        });
    let mut out = BTreeMap::new();
    for (partition, p) in file.partitions {
        for r in p.regions {
            out.insert(r, partition.clone());
        }
    }
    out
});

/// The partition of a known region.
pub fn partition_of(region: &str) -> Option<&'static str> {
    REGIONS.get(region).map(|s| s.as_str())
}

impl Values {
    pub fn from_attachment(a: &Attachment) -> Values {
        let mut v = Values::default();
        let mut problems = Vec::new();
        let a = &trimmed(a, &mut problems);

        match partition_of(&a.region) {
            Some(p) => {
                v.region = Some(a.region.clone());
                v.partition = Some(p.to_string());
            }
            None => problems.push(
                Finding::fail("unknown-region")
                    .var("region", &a.region)
                    .evidence(format!("region `{}` is not a known AWS region", a.region)),
            ),
        }

        // A valid name, but the endpoint's host name copied from a URL: the bucket is its
        // first label (virtual-hosted style, `BUCKET.s3[.REGION].amazonaws.com`).
        if let Some(meant) = endpoint_bucket(&a.bucket) {
            problems.push(
                Finding::warn("bucket-looks-like-endpoint")
                    .var("bucket", &a.bucket)
                    .var("meant", meant)
                    .evidence(format!(
                        "bucket `{}` ends like an S3 endpoint host name",
                        a.bucket
                    )),
            );
        }
        match bucket_name_problem(&a.bucket) {
            None => v.bucket = Some(a.bucket.clone()),
            Some(why) => problems.push(
                Finding::fail("bad-bucket-name")
                    .var("bucket", &a.bucket)
                    .evidence(format!("bucket name: {why}: `{}`", a.bucket))
                    .var("why", why),
            ),
        }

        match path_prefix(&a.path) {
            Ok(prefix) => v.prefix = Some(prefix),
            Err(why) => problems.push(
                Finding::fail("bad-path")
                    .var("path", &a.path)
                    .evidence(format!("path: {why}: `{}`", a.path))
                    .var("why", why),
            ),
        }

        v.key = parse_kms_key(&a.kms_key, &mut problems);
        if let (Some(KmsKeyRef::Key(arn) | KmsKeyRef::Alias(arn)), Some(region)) =
            (&v.key, &v.region)
            && &arn.region != region
        {
            problems.push(
                Finding::fail("key-region-mismatch")
                    .var("key_region", &arn.region)
                    .var("region", region)
                    .evidence(format!(
                        "the KMS key `{}` is in `{}`, the AoC region is `{region}`",
                        a.kms_key, arn.region
                    )),
            );
        }

        match a.role_arn.parse::<Arn>() {
            Ok(arn)
                if arn.service == "iam"
                    && arn.region.is_empty()
                    && arn.has_valid_account()
                    && arn.resource_type() == "role"
                    && !arn.resource_name().is_empty() =>
            {
                v.role = Some(arn)
            }
            _ => problems.push(
                Finding::fail("bad-role-arn")
                    .var("role_arn", &a.role_arn)
                    .evidence(format!("role `{}` is not an IAM role ARN", a.role_arn)),
            ),
        }

        // Every ARN must be in the region's partition: a role in aws-us-gov cannot use a key
        // in aws.
        if let Some(partition) = &v.partition {
            let others = [
                ("KMS key", v.key.as_ref().and_then(|k| k.arn())),
                ("role", v.role.as_ref()),
            ];
            for (what, arn) in others {
                if let Some(arn) = arn
                    && &arn.partition != partition
                {
                    problems.push(
                        Finding::fail("partition-mismatch")
                            .var("what", what)
                            .var("arn_partition", &arn.partition)
                            .var("partition", partition)
                            .evidence(format!(
                                "the {what} ARN is in partition `{}`, region `{}` is in `{partition}`",
                                arn.partition, a.region
                            )),
                    );
                }
            }
        }

        let (principal, external_id) = aoc_expectations(&a.aoc_trust);
        if let Some(p) = principal {
            match p.parse::<Arn>() {
                Ok(arn) if arn.service == "iam" && arn.has_valid_account() => {
                    if let Some(partition) = v.partition.as_ref().filter(|p| **p != arn.partition) {
                        problems.push(
                            Finding::fail("partition-mismatch")
                                .var("what", "AoC principal")
                                .var("arn_partition", &arn.partition)
                                .var("partition", partition)
                                .evidence(format!(
                                    "AoC's principal `{p}` is in partition `{}`, region `{}` is in `{partition}`",
                                    arn.partition, a.region
                                )),
                        );
                    }
                    v.aoc_principal = Some(p)
                }
                _ => problems.push(
                    Finding::fail("bad-aoc-principal")
                        .var("aoc_principal", &p)
                        .evidence(format!("AoC principal `{p}` is not an IAM ARN")),
                ),
            }
        }
        if let Some(id) = external_id {
            if external_id_valid(&id) {
                v.external_id = Some(id);
            } else {
                problems.push(
                    Finding::fail("bad-external-id")
                        .var("external_id", &id)
                        .evidence(format!(
                            "external ID of {} characters does not match [\\w+=,.@:/-]{{2,1224}}",
                            id.chars().count()
                        )),
                );
            }
        }
        if a.aoc_trust.policy.is_some() && (v.aoc_principal.is_none() || v.external_id.is_none()) {
            problems.push(Finding::warn("aoc-trust-incomplete").evidence(format!(
                "from AoC's trust policy: principal {}, external ID {}",
                v.aoc_principal.as_deref().unwrap_or("not found"),
                if v.external_id.is_some() {
                    "found"
                } else {
                    "not found"
                }
            )));
        }

        v.problems = problems;
        v
    }
}

fn parse_kms_key(value: &str, problems: &mut Vec<Finding>) -> Option<KmsKeyRef> {
    if is_key_id(value) {
        problems.push(
            Finding::warn("bare-key-id")
                .var("kms_key", value)
                .evidence(format!("KMS key `{value}` is a key ID, not an ARN")),
        );
        return Some(KmsKeyRef::BareId(value.to_string()));
    }
    let bad = |why: &str| {
        Finding::fail("bad-kms-key")
            .var("kms_key", value)
            .var("why", why)
            .evidence(format!("KMS key: {why}: `{value}`"))
    };
    let arn = match value.parse::<Arn>() {
        Ok(arn) => arn,
        Err(e) => {
            problems.push(bad(&e.0));
            return None;
        }
    };
    if arn.service != "kms" {
        problems.push(bad("not a KMS ARN (service must be `kms`)"));
        return None;
    }
    if !arn.has_valid_account() {
        problems.push(bad("the account must be a 12-digit account ID"));
        return None;
    }
    if partition_of(&arn.region).is_none() {
        problems.push(bad("the region is not a known AWS region"));
        return None;
    }
    match arn.resource_type() {
        "key" if is_key_id(arn.resource_id()) => Some(KmsKeyRef::Key(arn)),
        "key" => {
            problems.push(bad(
                "the key ID must be a UUID (1234abcd-12ab-34cd-56ef-1234567890ab) or a multi-Region ID (mrk-...)",
            ));
            None
        }
        "alias" if !arn.resource_id().is_empty() => {
            problems.push(
                Finding::warn("alias-arn")
                    .var("kms_key", value)
                    .evidence(format!("KMS key `{value}` is an alias ARN")),
            );
            Some(KmsKeyRef::Alias(arn))
        }
        _ => {
            problems.push(bad("the resource must be key/ID or alias/NAME"));
            None
        }
    }
}

/// A KMS key ID: a UUID, or `mrk-` and 32 hex digits for multi-Region keys.
pub fn is_key_id(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("mrk-") {
        return rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Why a name is not a valid general-purpose bucket name, per the S3 User Guide "General
/// purpose bucket naming rules"
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>).
/// The bucket a virtual-hosted S3 host name (`b.s3.amazonaws.com`,
/// `b.s3.us-east-1.amazonaws.com`, `b.s3-eu-west-1.amazonaws.com`) names, when `name` is one.
fn endpoint_bucket(name: &str) -> Option<&str> {
    let host = name.strip_suffix(".amazonaws.com")?;
    let at = host
        .find(".s3.")
        .or_else(|| host.find(".s3-"))
        .or_else(|| host.strip_suffix(".s3").map(|b| b.len()))?;
    let bucket = &host[..at];
    (!bucket.is_empty()).then_some(bucket)
}

pub fn bucket_name_problem(name: &str) -> Option<String> {
    let len = name.len();
    if !(3..=63).contains(&len) {
        return Some(format!("must be 3 to 63 characters long, is {len}"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Some(format!(
            "may contain only lower-case letters, digits, dots and hyphens, found `{c}`"
        ));
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge(name.chars().next()) || !edge(name.chars().last()) {
        return Some("must begin and end with a letter or digit".to_string());
    }
    if name.contains("..") {
        return Some("must not contain two adjacent dots".to_string());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("must not be formatted as an IP address".to_string());
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Some(format!("must not start with `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Some(format!("must not end with `{suffix}`"));
        }
    }
    None
}

/// The object-key prefix for an AoC path: `/` → ``, `/data` and `/data/` → `data/`.
pub fn path_prefix(path: &str) -> Result<String, String> {
    // S3 object keys are at most 1024 bytes, and AoC's objects live below the path.
    if path.len() > 1024 {
        return Err(format!(
            "must be shorter than an S3 key (1024 bytes), is {} bytes",
            path.len()
        ));
    }
    if path.chars().any(char::is_control) {
        return Err(
            "must not contain control characters (a line break pasted with it?)".to_string(),
        );
    }
    if path.contains(['*', '?']) {
        return Err("must not contain wildcards (`*`, `?`)".to_string());
    }
    if path.contains('\\') {
        return Err("must use `/` as separator, not `\\`".to_string());
    }
    if path.contains("//") {
        return Err("must not contain an empty segment (`//`)".to_string());
    }
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        Ok(String::new())
    } else {
        Ok(format!("{trimmed}/"))
    }
}

/// An external ID as STS accepts it: 2 to 1224 characters of `[\w+=,.@:/-]`.
fn external_id_valid(id: &str) -> bool {
    (2..=1224).contains(&id.chars().count())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
}

/// AoC's principal and external ID: the explicit values, else those read from the trust
/// policy pasted from AoC (the first Allow statement for `sts:AssumeRole`).
pub fn aoc_expectations(trust: &AocTrust) -> (Option<String>, Option<String>) {
    let mut principal = trust.aoc_principal.clone();
    let mut external_id = trust.external_id.clone();
    if let Some(policy) = &trust.policy {
        for st in &policy.document.statements {
            let assumes = matches!(&st.action, ActionSpec::Action(list)
                if list.iter().any(|a| a.eq_ignore_ascii_case("sts:AssumeRole")));
            if st.effect != Effect::Allow || !assumes {
                continue;
            }
            if principal.is_none()
                && let Some(PrincipalSpec::Principal(Principals::Map(map))) = &st.principal
                && let Some(aws) = map.get("AWS")
            {
                principal = aws.first().cloned();
            }
            if external_id.is_none() {
                external_id = st
                    .conditions
                    .iter()
                    .find(|c| c.key.eq_ignore_ascii_case("sts:ExternalId"))
                    .and_then(|c| c.values.first().cloned());
            }
        }
    }
    (principal, external_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::checks::test_support::*;
    use crate::facts::Facts;

    fn findings(a: &Attachment) -> Vec<Finding> {
        run_check(&DEF, a, &Facts::default())
    }

    #[test]
    fn well_formed_values_pass() {
        let f = findings(&attachment());
        assert_eq!(status(&f), Status::Pass);
    }

    #[test]
    fn malformed_bucket_name_fails_with_the_rule() {
        let mut a = attachment();
        a.bucket = "My_Bucket".into();
        let f = findings(&a);
        assert_eq!(status(&f), Status::Fail);
        assert!(text(&f).contains("My_Bucket"), "{}", text(&f));
        assert!(text(&f).contains("lower-case"), "{}", text(&f));
    }

    #[test]
    fn malformed_role_and_key_fail() {
        let mut a = attachment();
        a.role_arn = "arn:aws:iam::1234:user/bob".into();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:key/not-a-uuid".into();
        let f = findings(&a);
        let reasons: Vec<&str> = f.iter().map(|f| f.reason).collect();
        assert!(reasons.contains(&"bad-role-arn"), "{reasons:?}");
        assert!(reasons.contains(&"bad-kms-key"), "{reasons:?}");
    }

    #[test]
    fn key_in_another_region_fails() {
        let mut a = attachment();
        a.region = "eu-west-1".into();
        let f = findings(&a);
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "key-region-mismatch"));
        assert!(text(&f).contains("us-east-1"));
    }

    #[test]
    fn unknown_region_fails() {
        let mut a = attachment();
        a.region = "us-east-9".into();
        let f = findings(&a);
        assert!(f.iter().any(|f| f.reason == "unknown-region"));
    }

    #[test]
    fn alias_arn_and_bare_id_warn() {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/aoc".into();
        let f = findings(&a);
        assert_eq!(status(&f), Status::Warn);
        assert_eq!(f[0].reason, "alias-arn");
        a.kms_key = "1234abcd-12ab-34cd-56ef-1234567890ab".into();
        let f = findings(&a);
        assert_eq!(f[0].reason, "bare-key-id");
    }

    #[test]
    fn partition_mismatch_fails() {
        let mut a = attachment();
        a.role_arn = "arn:aws-us-gov:iam::111122223333:role/aoc".into();
        let f = findings(&a);
        assert!(f.iter().any(|f| f.reason == "partition-mismatch"));
    }

    #[test]
    fn aoc_principal_of_another_partition_fails() {
        let mut a = attachment();
        a.aoc_trust.aoc_principal =
            Some("arn:aws-cn:iam::860559707280:role/atp-aws-cn-north-1-ts-atc-node".into());
        let f = findings(&a);
        assert!(
            f.iter().any(|f| f.reason == "partition-mismatch"
                && text(std::slice::from_ref(f)).contains("AoC principal")),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn bucket_rules() {
        assert!(bucket_name_problem("aspera-kms").is_none());
        assert!(bucket_name_problem("ab").is_some());
        assert!(bucket_name_problem("-abc").is_some());
        assert!(bucket_name_problem("a..b").is_some());
        assert!(bucket_name_problem("192.168.1.1").is_some());
        assert!(bucket_name_problem("xn--abc").is_some());
        assert!(bucket_name_problem("abc-s3alias").is_some());
    }

    #[test]
    fn path_prefixes() {
        assert_eq!(path_prefix("/").unwrap(), "");
        assert_eq!(path_prefix("").unwrap(), "");
        assert_eq!(path_prefix("/data").unwrap(), "data/");
        assert_eq!(path_prefix("/data/in/").unwrap(), "data/in/");
        assert!(path_prefix("/da*ta").is_err());
        assert!(path_prefix("/a//b").is_err());
    }

    #[test]
    fn issue11_d9_surrounding_whitespace_is_trimmed_and_said() {
        let mut a = attachment();
        a.kms_key = format!("{KEY_ARN} ");
        a.bucket = "aspera-kms\n".into();
        let values = Values::from_attachment(&a);
        assert_eq!(values.bucket.as_deref(), Some("aspera-kms"));
        assert_eq!(
            values.key.as_ref().and_then(KmsKeyRef::key_arn).as_deref(),
            Some(KEY_ARN)
        );
        let f = findings(&a);
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(f.iter().all(|f| f.reason == "trimmed"), "{}", text(&f));
        assert_eq!(f.len(), 2, "{}", text(&f));
        let t = text(&f);
        assert!(t.contains("what=KMS key"), "{t}");
        assert!(t.contains(&format!("`{KEY_ARN} `")), "{t}");
        assert!(t.contains("aspera-kms\\n"), "{t}");
    }

    #[test]
    fn key_ids() {
        assert!(is_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(is_key_id("mrk-1234abcd12ab34cd56ef1234567890ab"));
        assert!(!is_key_id("1234abcd"));
    }

    #[test]
    fn an_endpoint_host_name_as_bucket_is_pointed_out() {
        assert_eq!(
            endpoint_bucket("aspera-kms.s3.amazonaws.com"),
            Some("aspera-kms")
        );
        assert_eq!(
            endpoint_bucket("aspera-kms.s3.us-west-2.amazonaws.com"),
            Some("aspera-kms")
        );
        assert_eq!(
            endpoint_bucket("my.bucket.s3-eu-west-1.amazonaws.com"),
            Some("my.bucket")
        );
        assert_eq!(endpoint_bucket("aspera-kms"), None);
        assert_eq!(endpoint_bucket("logs.example.com"), None);
    }
}
