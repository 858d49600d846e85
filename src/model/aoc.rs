//! The model of the requests AoC makes, which the policy checks evaluate: a session of the role
//! (its name unknown) calls S3 over TLS with SSE-KMS headers naming the key; S3 calls KMS on its
//! behalf (`kms:ViaService` = `s3.<region>.amazonaws.com`). What is known of those requests is
//! data with a source per fact (`checks/aoc-requests.toml`); what the tool cannot know (AoC's
//! source IP, its session name, the encryption context with or without Bucket Keys) is left
//! unknown, so conditions on it make results conditional instead of guessed.
//!
//! The actions and resources come from `checks/required-actions.toml`.

use std::sync::LazyLock;

use serde::Deserialize;

use super::facts::Facts;
use super::values::{KmsKeyRef, Values};
use crate::arn::Arn;
use crate::policy::{Context, Request};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredActions {
    pub s3: S3Actions,
    pub kms: KmsActions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Actions {
    pub object: ResourceActions,
    pub bucket: ResourceActions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceActions {
    pub resource: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsActions {
    pub resource: String,
    pub required: Vec<String>,
    pub recommended: Vec<String>,
}

pub const REQUIRED_ACTIONS_TOML: &str = include_str!("../../checks/required-actions.toml");

/// The manifest of required actions. It is embedded and covered by a unit test, so a parse
/// failure here is a build defect; an empty manifest would hide it, so the test is the guard.
pub static REQUIRED: LazyLock<RequiredActions> = LazyLock::new(|| {
    toml::from_str(REQUIRED_ACTIONS_TOML).unwrap_or(RequiredActions {
        s3: S3Actions {
            object: ResourceActions {
                resource: String::new(),
                actions: Vec::new(),
            },
            bucket: ResourceActions {
                resource: String::new(),
                actions: Vec::new(),
            },
        },
        kms: KmsActions {
            resource: String::new(),
            required: Vec::new(),
            recommended: Vec::new(),
        },
    })
});

/// One known fact about AoC's requests (`checks/aoc-requests.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFact {
    /// `s3`, `s3-upload`, `s3-not-upload`, `kms` or `sts`.
    pub requests: String,
    pub key: String,
    #[serde(default)]
    pub value: Option<Vec<String>>,
    #[serde(default)]
    pub one_of: Option<Vec<String>>,
    #[serde(default)]
    pub absent: bool,
    /// A start of the value, `{role_id}` filled from `iam:GetRole`.
    #[serde(default)]
    pub prefix: Option<String>,
    pub source: String,
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFacts {
    fact: Vec<RequestFact>,
}

pub const AOC_REQUESTS_TOML: &str = include_str!("../../checks/aoc-requests.toml");

/// The facts about AoC's requests. Embedded and covered by a unit test (a parse failure is a
/// build defect); should it fail anyway, no fact is known and conditions stay undecided,
/// which is the safe side.
pub static REQUEST_FACTS: LazyLock<Vec<RequestFact>> = LazyLock::new(|| {
    toml::from_str::<RequestFacts>(AOC_REQUESTS_TOML)
        .map(|f| f.fact)
        .unwrap_or_default()
});

/// Sets the context keys that the facts for `kind` know. `role_id` fills `{role_id}`; a
/// prefix fact without it stays unknown.
pub fn apply_facts(c: &mut Context, kinds: &[&str], role_id: Option<&str>) {
    for fact in REQUEST_FACTS
        .iter()
        .filter(|f| kinds.contains(&f.requests.as_str()))
    {
        if let Some(values) = &fact.value {
            c.set(&fact.key, values.clone());
        } else if let Some(values) = &fact.one_of {
            c.set_one_of(&fact.key, values.iter().map(|v| vec![v.clone()]).collect());
        } else if fact.absent {
            c.set_absent(&fact.key);
        } else if let (Some(prefix), Some(id)) = (&fact.prefix, role_id) {
            c.set_prefixed(&fact.key, &prefix.replace("{role_id}", id));
        }
    }
}

/// The values an S3 request model needs.
pub struct S3Target<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub role: &'a Arn,
    /// The role's unique ID (`AROA...`, from `iam:GetRole`), when known.
    pub role_id: Option<&'a str>,
}

impl<'a> S3Target<'a> {
    /// `None` when one of the values is malformed (then `input.values` fails).
    pub fn from_values(v: &'a Values) -> Option<Self> {
        Some(S3Target {
            partition: v.partition.as_deref()?,
            region: v.region.as_deref()?,
            bucket: v.bucket.as_deref()?,
            prefix: v.prefix.as_deref()?,
            role: v.role.as_ref()?,
            role_id: None,
        })
    }

    /// [`S3Target::from_values`], with what the gathered facts add (the role's unique ID).
    pub fn from_gathered(values: &'a Values, facts: &'a Facts) -> Option<Self> {
        let mut target = Self::from_values(values)?;
        target.role_id = facts
            .role
            .known()
            .and_then(|r| r.as_ref())
            .map(|r| r.role_id.as_str())
            .filter(|id| !id.is_empty());
        Some(target)
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("{partition}", self.partition)
            .replace("{bucket}", self.bucket)
            .replace("{prefix}", self.prefix)
    }

    pub fn bucket_arn(&self) -> String {
        self.fill(&REQUIRED.s3.bucket.resource)
    }

    /// The object resource AoC uses: every object under the path (`arn:aws:s3:::b/data/*`).
    /// Evaluated as a literal ARN, a `*` at its end matches only policy patterns that cover
    /// the whole path.
    pub fn object_arn(&self) -> String {
        self.fill(&REQUIRED.s3.object.resource)
    }

    /// Every (action, resource) AoC needs on S3.
    pub fn required(&self) -> Vec<(String, String)> {
        let object = self.object_arn();
        let bucket = self.bucket_arn();
        REQUIRED
            .s3
            .object
            .actions
            .iter()
            .map(|a| (a.clone(), object.clone()))
            .chain(
                REQUIRED
                    .s3
                    .bucket
                    .actions
                    .iter()
                    .map(|a| (a.clone(), bucket.clone())),
            )
            .collect()
    }

    /// The request AoC's session makes for `action` on `resource`.
    pub fn request(&self, action: &str, resource: &str, values: &Values) -> Request {
        let mut c = Context::partial();
        let upload = action.eq_ignore_ascii_case("s3:PutObject");
        let kind = if upload { "s3-upload" } else { "s3-not-upload" };
        apply_facts(&mut c, &["s3", kind], self.role_id);
        principal_context(&mut c, self.role);
        c.set("aws:RequestedRegion", vec![self.region.into()]);
        // Whether AoC sends an alias as entered or the key it resolves to is not documented,
        // so with an alias the header's value stays unknown.
        if upload && let Some(KmsKeyRef::Key(arn)) = &values.key {
            c.set(
                "s3:x-amz-server-side-encryption-aws-kms-key-id",
                vec![arn.to_string()],
            );
        }
        // AoC lists the path and the folders below it: `data/`, `data/sub/`, ...
        if action.eq_ignore_ascii_case("s3:ListBucket") && !self.prefix.is_empty() {
            c.set_prefixed("s3:prefix", self.prefix);
        }
        Request {
            principal: session_arn(self.role),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: None,
            context: c,
        }
    }
}

/// The session name the requests are evaluated with. AoC names its session itself and does not
/// document the name: the engine's stand-in for a name it does not know, so a policy naming one
/// exact session of the role leaves the answer open instead of deciding it on a guess.
pub const SESSION_NAME: &str = crate::policy::eval::UNKNOWN_SESSION;

/// The caller of AoC's requests: not the role itself but a session of it
/// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`), which is what matters for a `Deny` with
/// `NotPrincipal`: naming the role and its account does not exempt its sessions (IAM User
/// Guide, "NotPrincipal",
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>).
pub fn session_arn(role: &Arn) -> String {
    format!(
        "arn:{}:sts::{}:assumed-role/{}/{SESSION_NAME}",
        role.partition,
        role.account,
        role.resource_name()
    )
}

/// What every request of the role's session says about its principal.
fn principal_context(c: &mut Context, role: &Arn) {
    c.set("aws:PrincipalArn", vec![role.to_string()]);
    c.set("aws:PrincipalAccount", vec![role.account.clone()]);
    c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
    // Roles have no user name; only IAM users do.
    c.set_absent("aws:username");
    c.set_absent("aws:MultiFactorAuthPresent");
}

/// The key ARN to evaluate KMS requests against: the one KMS described (live: what an alias
/// resolved to), else the key ARN entered.
pub fn key_arn(values: &Values, facts: &Facts) -> Option<String> {
    match facts.key.known() {
        Some(Some(meta)) => Some(meta.arn.clone()),
        _ => values.key.as_ref().and_then(KmsKeyRef::key_arn),
    }
}

/// The request S3 makes to KMS on the role's behalf, for `action` on `key_arn`.
pub fn kms_request(target: &S3Target<'_>, action: &str, key_arn: &str, values: &Values) -> Request {
    let mut c = Context::partial();
    apply_facts(&mut c, &["kms"], target.role_id);
    principal_context(&mut c, target.role);
    c.set(
        "kms:ViaService",
        vec![format!("s3.{}.amazonaws.com", target.region)],
    );
    c.set("kms:CallerAccount", vec![target.role.account.clone()]);
    // With an alias entered, whether S3 passes the alias on is not documented, so
    // kms:RequestAlias (and kms:ResourceAliases, the key may have other aliases) stay unknown.
    if values
        .key
        .as_ref()
        .and_then(KmsKeyRef::alias_name)
        .is_none()
    {
        c.set_absent("kms:RequestAlias");
    }
    Request {
        principal: session_arn(target.role),
        action: action.to_string(),
        resource: key_arn.to_string(),
        resource_account: None,
        context: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_matches_the_design() {
        let r: RequiredActions = toml::from_str(REQUIRED_ACTIONS_TOML).unwrap();
        assert_eq!(r.s3.object.actions.len(), 5);
        assert_eq!(r.s3.bucket.actions.len(), 3);
        assert!(
            r.s3.bucket
                .actions
                .contains(&"s3:ListBucketMultipartUploads".to_string())
        );
        assert_eq!(r.kms.required, vec!["kms:GenerateDataKey", "kms:Decrypt"]);
    }

    #[test]
    fn request_facts_parse_and_each_says_one_thing_with_a_source() {
        let facts: RequestFacts = toml::from_str(AOC_REQUESTS_TOML).unwrap();
        assert!(facts.fact.len() >= 15);
        for f in &facts.fact {
            let kinds = [
                f.value.is_some(),
                f.one_of.is_some(),
                f.absent,
                f.prefix.is_some(),
            ];
            assert_eq!(kinds.iter().filter(|k| **k).count(), 1, "{}", f.key);
            assert!(
                ["s3", "s3-upload", "s3-not-upload", "kms", "sts"].contains(&f.requests.as_str()),
                "{}",
                f.requests
            );
            assert!(f.source.starts_with("https://"), "{}", f.key);
            assert!(!f.why.trim().is_empty(), "{}", f.key);
        }
    }

    #[test]
    fn path_scopes_the_object_resource() {
        let role: Arn = "arn:aws:iam::111122223333:role/aoc".parse().unwrap();
        let t = S3Target {
            partition: "aws",
            region: "us-east-1",
            bucket: "b",
            prefix: "data/",
            role: &role,
            role_id: None,
        };
        assert_eq!(t.object_arn(), "arn:aws:s3:::b/data/*");
        assert_eq!(t.bucket_arn(), "arn:aws:s3:::b");
        assert_eq!(t.required().len(), 8);
    }
}
