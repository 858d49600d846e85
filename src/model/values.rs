//! The attachment's values, typed: the region and its partition, the bucket and path
//! prefix, how the KMS key was entered, the role and AoC's side of the trust. Parsing records
//! each malformed value as an `input.values` finding instead of failing, so every check can
//! tell "malformed" (skip) from "absent".

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::attachment::{AocTrust, Attachment};
use super::verdict::Finding;
use crate::arn::Arn;
use crate::policy::{ActionSpec, Effect, PrincipalSpec, Principals};

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
            None => {
                let near = crate::suggest::did_you_mean(&crate::suggest::nearest(
                    &a.region,
                    REGIONS.keys().map(String::as_str),
                ));
                problems.push(
                    Finding::fail("unknown-region")
                        .var("region", &a.region)
                        .var("did_you_mean", &near)
                        .evidence(format!(
                            "region `{}` is not a known AWS region{near}",
                            a.region
                        )),
                )
            }
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
pub fn endpoint_bucket(name: &str) -> Option<&str> {
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
