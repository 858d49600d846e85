//! Worlds: an attachment's bucket, key, alias and role seeded in moto with the SDK, set up the
//! way IBM's procedure ("Attach a KMS-encrypted AWS bucket") says, or broken in one way.
//!
//! Every world gets its own names (tests share one server and never reset it). Policy
//! documents given to the builder are templates: `${BUCKET}`, `${KEY_ARN}`, `${ALIAS_ARN}`,
//! `${OTHER_KEY_ARN}` (a second key, created on demand), `${ROLE_ARN}` and `${ACCOUNT}` are
//! filled in when the world is built.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use serde_json::{Value, json};

use super::moto::{self, Clients, LiveCmd, MotoServer, Run};

/// moto's default account.
pub const ACCOUNT: &str = "123456789012";
/// The account of AoC's principal in IBM's sample trust policy.
pub const AOC_ACCOUNT: &str = "860559707280";

/// The S3 actions AoC needs on objects (`arn:aws:s3:::BUCKET/*`).
pub const OBJECT_ACTIONS: [&str; 5] = [
    "s3:PutObject",
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
];
/// The S3 actions AoC needs on the bucket (`arn:aws:s3:::BUCKET`).
pub const BUCKET_ACTIONS: [&str; 3] = [
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:GetBucketLocation",
];
/// The KMS actions of the IBM procedure's sample policy.
pub const KMS_ACTIONS: [&str; 7] = [
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:EnableKey",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

/// How the key is entered in AoC (`--kms-key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEntry {
    KeyArn,
    AliasArn,
}

/// A world to build: the correct one unless a mutator says otherwise.
#[derive(Debug, Clone)]
pub struct WorldBuilder {
    tag: String,
    region: String,
    bucket_region: Option<String>,
    key_region: Option<String>,
    create_bucket: bool,
    key_spec: KeySpec,
    key_state: KeyState,
    key_policy: Option<String>,
    create_alias: bool,
    key_entry: KeyEntry,
    create_role: bool,
    s3_actions_removed: Vec<String>,
    inline_extra: Vec<String>,
    kms_actions_removed: Vec<String>,
    kms_resource_alias: bool,
    boundary: Option<String>,
    role_external_id: Option<String>,
    bucket_policy_extra: Vec<String>,
    tls_statement: bool,
    account: Option<AccountKeys>,
}

/// Static keys moto maps to an account other than its default one (an IAM user's there).
#[derive(Debug, Clone)]
pub struct AccountKeys {
    pub account: String,
    pub access_key: String,
    pub secret_key: String,
}

/// A world seeded in moto.
#[derive(Debug)]
pub struct World {
    endpoint: String,
    /// AoC's region (`--region`).
    pub region: String,
    pub bucket: String,
    pub key_arn: String,
    pub alias_arn: String,
    pub role_name: String,
    pub role_arn: String,
    /// The external ID in AoC's trust JSON (`--trust-policy`).
    pub external_id: String,
    /// The external ID in the role's trust policy (the same, unless stale).
    pub role_external_id: String,
    /// The key as entered in AoC (`--kms-key`).
    pub kms_key: String,
    /// The account it lives in, and the keys that read it when that is not moto's default.
    pub account: String,
    keys: Option<AccountKeys>,
    _dir: tempfile::TempDir,
    trust_file: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh number for unique names in this test process.
fn next_id() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A UUID-shaped external ID, as AoC shows them, unique in this process.
pub fn external_id(salt: u32) -> String {
    let n = next_id();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        0x3b6f_5a1c_u32 ^ n,
        salt & 0xffff,
        n & 0xfff,
        (n >> 12) & 0xfff,
        0x0e1d_2c3b_4a59_u64 + u64::from(n)
    )
}

/// AoC's principal for a region (IBM's naming: the region is in the role name).
pub fn aoc_principal(region: &str) -> String {
    format!("arn:aws:iam::{AOC_ACCOUNT}:role/atp-aws-{region}-ts-atc-node")
}

/// The trust policy AoC shows (and the role should have).
pub fn trust_policy(region: &str, external_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": aoc_principal(region) },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": external_id } }
        }]
    })
}

/// The default key policy: delegate to IAM through the account root.
pub fn root_delegation_key_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

impl World {
    /// The correct world, in us-east-1. `tag` makes the names readable in moto's log.
    pub fn builder(tag: &str) -> WorldBuilder {
        WorldBuilder {
            tag: tag
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(20)
                .collect::<String>()
                .to_ascii_lowercase(),
            region: "us-east-1".to_string(),
            bucket_region: None,
            key_region: None,
            create_bucket: true,
            key_spec: KeySpec::SymmetricDefault,
            key_state: KeyState::Enabled,
            key_policy: None,
            create_alias: true,
            key_entry: KeyEntry::KeyArn,
            create_role: true,
            s3_actions_removed: Vec::new(),
            inline_extra: Vec::new(),
            kms_actions_removed: Vec::new(),
            kms_resource_alias: false,
            boundary: None,
            role_external_id: None,
            bucket_policy_extra: Vec::new(),
            tls_statement: true,
            account: None,
        }
    }

    /// The attachment's flags, as the admin would give them.
    pub fn args(&self) -> Vec<OsString> {
        vec![
            "--region".into(),
            self.region.clone().into(),
            "--bucket".into(),
            self.bucket.clone().into(),
            "--kms-key".into(),
            self.kms_key.clone().into(),
            "--role-arn".into(),
            self.role_arn.clone().into(),
            "--trust-policy".into(),
            self.trust_file.clone().into_os_string(),
        ]
    }

    /// The live command against this world's server, with the attachment's flags.
    pub fn cmd(&self) -> LiveCmd {
        self.live().args(self.args())
    }

    /// The live command with the credentials of the world's account.
    fn live(&self) -> LiveCmd {
        let cmd = LiveCmd::new(&self.endpoint);
        match &self.keys {
            Some(k) => cmd.credentials(&k.access_key, &k.secret_key),
            None => cmd,
        }
    }

    /// The live command with some of the attachment's flags given other values (a typo).
    pub fn cmd_with(&self, values: &[(&str, &str)]) -> LiveCmd {
        let mut args = self.args();
        for (flag, value) in values {
            match args.iter().position(|a| a == flag) {
                Some(i) => args[i + 1] = (*value).into(),
                None => args.extend([(*flag).into(), (*value).into()]),
            }
        }
        self.live().args(args)
    }

    /// The live command with the attachment's values but none of AoC's trust values (no
    /// `--trust-policy`): what an admin runs without the AoC page at hand.
    pub fn cmd_without_aoc_values(&self) -> LiveCmd {
        let args = self.args();
        let keep: Vec<OsString> = args
            .chunks(2)
            .filter(|pair| pair[0] != "--trust-policy")
            .flatten()
            .cloned()
            .collect();
        LiveCmd::new(&self.endpoint).args(keep)
    }

    /// `check` in live mode with the attachment's flags.
    pub fn check(&self) -> Run {
        self.cmd().run()
    }
}

impl WorldBuilder {
    /// Everything (AoC, bucket, key, AoC's principal) in this region.
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_string();
        self
    }
    /// The bucket in another region than AoC's.
    pub fn bucket_region(mut self, region: &str) -> Self {
        self.bucket_region = Some(region.to_string());
        self
    }
    /// The key (and its alias) in another region than AoC's.
    pub fn key_region(mut self, region: &str) -> Self {
        self.key_region = Some(region.to_string());
        self
    }
    pub fn no_bucket(mut self) -> Self {
        self.create_bucket = false;
        self
    }
    pub fn key_spec(mut self, spec: KeySpec) -> Self {
        self.key_spec = spec;
        self
    }
    pub fn key_state(mut self, state: KeyState) -> Self {
        self.key_state = state;
        self
    }
    /// Replaces the default (root delegation) key policy; a template.
    pub fn key_policy(mut self, policy: &str) -> Self {
        self.key_policy = Some(policy.to_string());
        self
    }
    pub fn no_alias(mut self) -> Self {
        self.create_alias = false;
        self
    }
    pub fn enter_key_as(mut self, entry: KeyEntry) -> Self {
        self.key_entry = entry;
        self
    }
    pub fn no_role(mut self) -> Self {
        self.create_role = false;
        self
    }
    /// Leaves an S3 action out of the role's inline policy.
    pub fn without_s3_action(mut self, action: &str) -> Self {
        self.s3_actions_removed.push(action.to_string());
        self
    }
    /// Adds a statement to the role's inline policy; a template.
    pub fn inline_statement(mut self, statement: &str) -> Self {
        self.inline_extra.push(statement.to_string());
        self
    }
    /// Leaves a KMS action out of the role's managed KMS policy.
    pub fn without_kms_action(mut self, action: &str) -> Self {
        self.kms_actions_removed.push(action.to_string());
        self
    }
    /// The role's KMS policy names the alias ARN instead of the key ARN.
    pub fn kms_resource_alias(mut self) -> Self {
        self.kms_resource_alias = true;
        self
    }
    /// A permissions boundary (a managed policy); a template.
    pub fn permissions_boundary(mut self, policy: &str) -> Self {
        self.boundary = Some(policy.to_string());
        self
    }
    /// The role's trust policy has this external ID instead of AoC's.
    pub fn role_external_id(mut self, id: &str) -> Self {
        self.role_external_id = Some(id.to_string());
        self
    }
    /// Adds a statement to the bucket policy (after DenyInsecureTransport); a template.
    pub fn bucket_policy_statement(mut self, statement: &str) -> Self {
        self.bucket_policy_extra.push(statement.to_string());
        self
    }

    /// Leaves out the DenyInsecureTransport statement: moto ignores its `Bool` condition and
    /// would deny every object request, which only matters to tests that write objects.
    pub fn without_tls_statement(mut self) -> Self {
        self.tls_statement = false;
        self
    }

    /// Everything in this account instead of moto's default one, seeded and read with its keys.
    pub fn in_account(mut self, keys: AccountKeys) -> Self {
        self.account = Some(keys);
        self
    }

    /// Seeds the world in the shared server.
    pub fn build(self) -> World {
        self.build_on(moto::shared())
    }

    /// Seeds the world in `server`.
    pub fn build_on(self, server: &MotoServer) -> World {
        moto::runtime().block_on(self.seed(server.endpoint()))
    }

    async fn seed(self, endpoint: String) -> World {
        let n = next_id();
        let base = format!("aoc-{n:03}-{}", self.tag);
        let bucket_region = self.bucket_region.clone().unwrap_or(self.region.clone());
        let key_region = self.key_region.clone().unwrap_or(self.region.clone());
        let (account, key, secret) = match &self.account {
            Some(k) => (
                k.account.as_str(),
                k.access_key.as_str(),
                k.secret_key.as_str(),
            ),
            None => (ACCOUNT, moto::ACCESS_KEY, moto::SECRET_KEY),
        };
        let clients = |region: &str| Clients::with_credentials(&endpoint, region, key, secret);
        let global = clients("us-east-1");
        let in_key_region = clients(&key_region);
        let in_bucket_region = clients(&bucket_region);

        let role_name = format!("{base}-role");
        let role_arn = format!("arn:aws:iam::{account}:role/aoc/{role_name}");
        let alias_name = format!("alias/{base}");
        let alias_arn = format!("arn:aws:kms:{key_region}:{account}:{alias_name}");

        // The key, as the procedure creates it: symmetric, ENCRYPT_DECRYPT, stated explicitly
        // (moto reports KeyUsage/KeySpec only when given).
        let key_policy = match &self.key_policy {
            Some(p) => fill(p, &[("${ROLE_ARN}", &role_arn), ("${ACCOUNT}", account)]),
            None => root_delegation_key_policy(account),
        };
        let key = in_key_region
            .kms
            .create_key()
            .description(format!("aoc-preflight test {base}"))
            .key_usage(KeyUsageType::EncryptDecrypt)
            .key_spec(self.key_spec.clone())
            .policy(key_policy)
            .bypass_policy_lockout_safety_check(self.key_policy.is_some())
            .send()
            .await;
        let key = ok("kms:CreateKey", key).key_metadata.expect("key metadata");
        let key_arn = key.arn.clone().expect("key ARN");
        let key_id = key.key_id.clone();

        let needs_other_key = self
            .bucket_policy_extra
            .iter()
            .chain(&self.inline_extra)
            .any(|t| t.contains("${OTHER_KEY_ARN}"));
        let other_key_arn = if needs_other_key {
            let other = in_key_region
                .kms
                .create_key()
                .description(format!("aoc-preflight test {base} (another key)"))
                .key_usage(KeyUsageType::EncryptDecrypt)
                .key_spec(KeySpec::SymmetricDefault)
                .send()
                .await;
            ok("kms:CreateKey (other)", other)
                .key_metadata
                .and_then(|m| m.arn)
                .expect("other key ARN")
        } else {
            String::new()
        };

        if self.create_alias {
            let r = in_key_region
                .kms
                .create_alias()
                .alias_name(&alias_name)
                .target_key_id(&key_id)
                .send()
                .await;
            ok("kms:CreateAlias", r);
        }
        match self.key_state {
            KeyState::Enabled => {}
            KeyState::Disabled => {
                let r = in_key_region.kms.disable_key().key_id(&key_id).send().await;
                ok("kms:DisableKey", r);
            }
            KeyState::PendingDeletion => {
                let r = in_key_region
                    .kms
                    .schedule_key_deletion()
                    .key_id(&key_id)
                    .pending_window_in_days(7)
                    .send()
                    .await;
                ok("kms:ScheduleKeyDeletion", r);
            }
        }

        let bucket = base.clone();
        let vars = [
            ("${BUCKET}", bucket.as_str()),
            ("${KEY_ARN}", key_arn.as_str()),
            ("${ALIAS_ARN}", alias_arn.as_str()),
            ("${OTHER_KEY_ARN}", other_key_arn.as_str()),
            ("${ROLE_ARN}", role_arn.as_str()),
            ("${ACCOUNT}", account),
        ];

        if self.create_bucket {
            let s3 = &in_bucket_region.s3;
            let mut create = s3.create_bucket().bucket(&bucket);
            if bucket_region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(bucket_region.as_str()))
                        .build(),
                );
            }
            ok("s3:CreateBucket", create.send().await);
            let by_default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(&key_arn)
                .build()
                .expect("encryption by default");
            let encryption = ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .expect("encryption configuration");
            let r = s3
                .put_bucket_encryption()
                .bucket(&bucket)
                .server_side_encryption_configuration(encryption)
                .send()
                .await;
            ok("s3:PutBucketEncryption", r);
            let r = s3
                .put_public_access_block()
                .bucket(&bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await;
            ok("s3:PutPublicAccessBlock", r);
            // The usual TLS-only statement: harmless to AoC, which uses TLS (moto would apply
            // it to object requests, but the tests write no objects).
            let mut statements = Vec::new();
            if self.tls_statement {
                statements.push(json!({
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                    "Condition": { "Bool": { "aws:SecureTransport": "false" } }
                }));
            }
            statements.extend(
                self.bucket_policy_extra
                    .iter()
                    .map(|t| parse(&fill(t, &vars))),
            );
            let policy = json!({ "Version": "2012-10-17", "Statement": statements });
            let r = s3
                .put_bucket_policy()
                .bucket(&bucket)
                .policy(policy.to_string())
                .send()
                .await;
            ok("s3:PutBucketPolicy", r);
        }

        let external_id = external_id(n);
        let role_external_id = self.role_external_id.clone().unwrap_or(external_id.clone());
        let inline_policy_name = "aoc-s3-access";
        let kms_policy_name = format!("{base}-kms");
        if self.create_role {
            let iam = &global.iam;
            let trust = trust_policy(&self.region, &role_external_id);
            let r = iam
                .create_role()
                .role_name(&role_name)
                .path("/aoc/")
                .assume_role_policy_document(trust.to_string())
                .description("aoc-preflight test role")
                .send()
                .await;
            ok("iam:CreateRole", r);

            let keep = |a: &&str| !self.s3_actions_removed.iter().any(|r| r == a);
            let object_actions: Vec<&str> = OBJECT_ACTIONS.iter().copied().filter(keep).collect();
            let bucket_actions: Vec<&str> = BUCKET_ACTIONS.iter().copied().filter(keep).collect();
            let mut statements = vec![
                json!({
                    "Sid": "AocObjects",
                    "Effect": "Allow",
                    "Action": object_actions,
                    "Resource": [format!("arn:aws:s3:::{bucket}/*")]
                }),
                json!({
                    "Sid": "AocBucket",
                    "Effect": "Allow",
                    "Action": bucket_actions,
                    "Resource": [format!("arn:aws:s3:::{bucket}")]
                }),
            ];
            statements.extend(self.inline_extra.iter().map(|t| parse(&fill(t, &vars))));
            let s3_policy = json!({ "Version": "2012-10-17", "Statement": statements });
            let r = iam
                .put_role_policy()
                .role_name(&role_name)
                .policy_name(inline_policy_name)
                .policy_document(s3_policy.to_string())
                .send()
                .await;
            ok("iam:PutRolePolicy", r);

            let kms_actions: Vec<&str> = KMS_ACTIONS
                .iter()
                .copied()
                .filter(|a| !self.kms_actions_removed.iter().any(|r| r == a))
                .collect();
            let kms_resource = if self.kms_resource_alias {
                &alias_arn
            } else {
                &key_arn
            };
            let kms_policy = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AocKms",
                    "Effect": "Allow",
                    "Action": kms_actions,
                    "Resource": [kms_resource]
                }]
            });
            let created = iam
                .create_policy()
                .policy_name(&kms_policy_name)
                .path("/aoc/")
                .policy_document(kms_policy.to_string())
                .send()
                .await;
            let kms_policy_arn = ok("iam:CreatePolicy", created)
                .policy
                .and_then(|p| p.arn)
                .expect("policy ARN");
            let r = iam
                .attach_role_policy()
                .role_name(&role_name)
                .policy_arn(&kms_policy_arn)
                .send()
                .await;
            ok("iam:AttachRolePolicy", r);

            if let Some(boundary) = &self.boundary {
                let created = iam
                    .create_policy()
                    .policy_name(format!("{base}-boundary"))
                    .policy_document(fill(boundary, &vars))
                    .send()
                    .await;
                let boundary_arn = ok("iam:CreatePolicy (boundary)", created)
                    .policy
                    .and_then(|p| p.arn)
                    .expect("boundary ARN");
                let r = iam
                    .put_role_permissions_boundary()
                    .role_name(&role_name)
                    .permissions_boundary(&boundary_arn)
                    .send()
                    .await;
                ok("iam:PutRolePermissionsBoundary", r);
            }
        }

        let dir = tempfile::tempdir().expect("temp dir");
        let trust_file = dir.path().join("aoc-trust-policy.json");
        let aoc_trust = serde_json::to_string_pretty(&trust_policy(&self.region, &external_id))
            .expect("trust JSON");
        std::fs::write(&trust_file, aoc_trust).expect("write AoC trust JSON");

        let kms_key = match self.key_entry {
            KeyEntry::KeyArn => key_arn.clone(),
            KeyEntry::AliasArn => alias_arn.clone(),
        };
        World {
            endpoint,
            region: self.region,
            bucket,
            key_arn,
            alias_arn,
            role_name,
            role_arn,
            external_id,
            role_external_id,
            kms_key,
            account: account.to_string(),
            keys: self.account.clone(),
            _dir: dir,
            trust_file,
        }
    }
}

/// Replaces the template's variables.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter()
        .fold(template.to_string(), |s, (k, v)| s.replace(k, v))
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("test policy is not JSON ({e}): {text}"))
}

/// Unwraps an SDK result, with the whole error chain in the panic.
fn ok<T, E>(what: &str, result: Result<T, E>) -> T
where
    E: std::error::Error + Send + Sync + 'static,
{
    result.unwrap_or_else(|e| {
        panic!(
            "seeding moto: {what} failed: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        )
    })
}
