//! Live mode: reads the attachment's state from AWS with read-only calls, concurrently, each
//! fact once, within an overall deadline, and records every call as evidence.
//!
//! Only these operations are ever called here (all reads): sts:GetCallerIdentity;
//! s3:HeadBucket, GetBucketLocation, GetBucketEncryption, GetBucketPolicy,
//! GetPublicAccessBlock, ListBuckets (only for a bucket that does not exist);
//! kms:DescribeKey, ListAliases, GetKeyPolicy; iam:GetRole,
//! ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy, GetPolicyVersion.
//! `permissions` prints the IAM policy that allows exactly these.
//!
//! A call AWS refuses becomes `Fact::Failed` naming the permission the tool needs; a call that
//! does not answer in time becomes `Fact::Failed` saying so; the other facts are unaffected.
//! Each failure has a [`FailureKind`], classified from the SDK's error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use futures_util::future::join_all;
use tokio::sync::OnceCell;

use crate::model::Values;
use crate::model::attachment::Access;
use crate::model::attachment::Attachment;
use crate::model::facts::{
    BucketEncryption, BucketHead, CREDENTIALS_PROBLEM, CallRecord, CallerIdentity, Fact, Facts,
    Failure, FailureKind, KeyMetadata, Mode, PublicAccessBlock, RoleInfo,
};
use crate::model::values::KmsKeyRef;
use crate::policy::{NamedPolicy, parse_policy};

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// `--profile`: credentials from this profile alone (not the environment first).
    pub profile: Option<String>,
    /// `--endpoint-url` / `AWS_ENDPOINT_URL`: an emulator or a private endpoint; S3 then uses
    /// path-style addressing.
    pub endpoint_url: Option<String>,
    /// The overall time limit.
    pub timeout: Duration,
    /// `--probe`: also write, read and delete a probe object (the only writing mode).
    pub probe: bool,
}

/// Where the credentials come from, by the order of the default chain, for the report.
fn credential_source(opts: &LiveOptions, access: &Access) -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let base = credential_chain_source(opts, access, env);
    match &access.assume_role_arn {
        Some(role) => format!("role {role} assumed with {base}"),
        None => base,
    }
}

/// [`credential_source`] without the assumed role, reading the environment through `env` (a
/// variable's non-empty value) so that tests can give one.
fn credential_chain_source(
    opts: &LiveOptions,
    access: &Access,
    env: impl Fn(&str) -> Option<String>,
) -> String {
    let set = |k: &str| env(k).is_some();
    if let Some(p) = &access.profile {
        format!("profile `{p}` (attachment)")
    } else if let Some(p) = &opts.profile {
        format!("profile `{p}` (--profile)")
    } else if set("AWS_ACCESS_KEY_ID") {
        "environment variables (AWS_ACCESS_KEY_ID)".to_string()
    } else if let Some(p) = env("AWS_PROFILE") {
        format!("profile `{p}` (AWS_PROFILE)")
    } else if set("AWS_WEB_IDENTITY_TOKEN_FILE") {
        "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)".to_string()
    } else if set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    {
        "container credentials".to_string()
    } else {
        "the default profile, SSO or instance metadata".to_string()
    }
}

/// A failed call, classified.
#[derive(Debug, Clone)]
struct CallError {
    /// AWS's error code (`AccessDenied`, `NoSuchBucket`, ...), or empty.
    code: String,
    message: String,
    status: Option<u16>,
    /// `x-amz-bucket-region`, which S3 sends even on 403 and 301.
    bucket_region: Option<String>,
    kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    /// AWS answered with an error.
    Service,
    /// No answer in time.
    Timeout,
    /// Could not connect or send (DNS, refused, TLS, credentials).
    Transport,
    /// AWS answered, but the answer could not be read (malformed or truncated).
    Unreadable,
}

impl CallError {
    fn is(&self, codes: &[&str]) -> bool {
        codes.iter().any(|c| self.code == *c)
    }

    /// The credentials themselves are the problem (none found, unknown key, bad signature,
    /// expired), rather than a permission or the network.
    fn credentials_problem(&self) -> bool {
        match self.kind {
            ErrorKind::Transport => self.message.to_ascii_lowercase().contains("credential"),
            ErrorKind::Service => self.is(&[
                "InvalidClientTokenId",
                "SignatureDoesNotMatch",
                "ExpiredToken",
                "ExpiredTokenException",
                "InvalidAccessKeyId",
                "UnrecognizedClientException",
                "AuthFailure",
            ]),
            ErrorKind::Timeout | ErrorKind::Unreadable => false,
        }
    }

    fn access_denied(&self) -> bool {
        self.status == Some(403)
            || self.code.contains("AccessDenied")
            || self.code == "UnauthorizedOperation"
    }

    /// What AWS answered, in a few words: `AccessDenied (HTTP 403): message`.
    fn brief(&self) -> String {
        match self.kind {
            ErrorKind::Timeout => return "no answer in time".to_string(),
            ErrorKind::Unreadable => return "AWS's answer could not be read".to_string(),
            _ => {}
        }
        let mut out = self.code.clone();
        if let Some(s) = self.status {
            if out.is_empty() {
                out = format!("HTTP {s}");
            } else {
                out.push_str(&format!(" (HTTP {s})"));
            }
        }
        // The SDK's text for an unmodelled error says nothing more than the status.
        if !self.message.is_empty() && !self.message.contains("unhandled error") {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&self.message);
        }
        if out.is_empty() {
            self.message.clone()
        } else {
            out
        }
    }

    /// What kind of failure this is, most specific first: credentials that do not work
    /// also come back as 403, so they are told apart before a refusal.
    fn failure_kind(&self) -> FailureKind {
        let expired = match self.kind {
            ErrorKind::Service => self.is(&["ExpiredToken", "ExpiredTokenException"]),
            _ => self.message.to_ascii_lowercase().contains("expired"),
        };
        match self.kind {
            ErrorKind::Timeout => FailureKind::Timeout,
            ErrorKind::Unreadable => FailureKind::Unreadable,
            _ if self.credentials_problem() && expired => FailureKind::ExpiredCredentials,
            _ if self.credentials_problem() => FailureKind::Credentials,
            ErrorKind::Transport => FailureKind::Network,
            ErrorKind::Service if self.access_denied() => FailureKind::AccessDenied,
            ErrorKind::Service => FailureKind::Service,
        }
    }

    /// The `Fact::Failed` of a call that needed `permission` on `resource`.
    fn failure(&self, permission: &str, resource: &str, timeout: Duration) -> Failure {
        Failure::new(
            self.failure_kind(),
            self.explain(permission, resource, timeout),
        )
    }

    /// The `Fact::Failed` text: what happened and what to do.
    fn explain(&self, permission: &str, resource: &str, timeout: Duration) -> String {
        match self.kind {
            ErrorKind::Timeout => format!(
                "{permission} on {resource} did not answer within {} s (check the network or --endpoint-url, or raise --timeout)",
                timeout.as_secs()
            ),
            ErrorKind::Transport => format!(
                "{permission} could not be sent: {} (check the credentials, the network and --endpoint-url)",
                self.message
            ),
            ErrorKind::Unreadable => format!(
                "{permission} on {resource}: AWS's answer could not be read (malformed or truncated{}); run again, and check --endpoint-url if it persists",
                self.status
                    .map(|s| format!(", HTTP {s}"))
                    .unwrap_or_default()
            ),
            ErrorKind::Service if self.access_denied() => format!(
                "the tool needs {permission} on {resource} (AWS answered {}{}); `aoc-preflight permissions` prints the policy to grant",
                self.status.map(|s| s.to_string()).unwrap_or_default(),
                if self.code.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.code)
                }
            ),
            ErrorKind::Service => format!(
                "{permission} on {resource} failed: {}{}",
                if self.code.is_empty() {
                    format!("HTTP {}", self.status.unwrap_or(0))
                } else {
                    self.code.clone()
                },
                if self.message.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", self.message)
                }
            ),
        }
    }
}

fn classify<E>(err: SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let bucket_region = err
        .raw_response()
        .and_then(|r| r.headers().get("x-amz-bucket-region"))
        .map(str::to_string);
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().unwrap_or_default().to_string();
    let kind = match &err {
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => ErrorKind::Timeout,
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => ErrorKind::Transport,
        SdkError::ResponseError(_) => ErrorKind::Unreadable,
        _ if error_chain_contains(&err, INCOMPLETE_ANSWER) => ErrorKind::Unreadable,
        // A success status with an error means the body did not deserialize.
        _ if matches!(status, Some(200..=299)) => ErrorKind::Unreadable,
        _ => ErrorKind::Service,
    };
    let message = if message.is_empty() {
        // The chain of sources says what went wrong ("connection refused", "no credentials").
        let mut text = Vec::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = source {
            let s = e.to_string();
            if !text.contains(&s) {
                text.push(s);
            }
            source = e.source();
        }
        text.join(": ")
    } else {
        message
    };
    // Reports are line-oriented: the credential chain's "Attempted:" list spans lines.
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    CallError {
        code,
        message,
        status,
        bucket_region,
        kind,
    }
}

/// The code of a call the deadline stopped before it was sent.
const NOT_SENT: &str = "NotSent";

/// True when `needle` appears in the error or one of its sources.
fn error_chain_contains(err: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.to_string().contains(needle) {
            return true;
        }
        source = e.source();
    }
    false
}

/// Runs calls under the overall deadline and records them.
struct Caller {
    calls: Mutex<Vec<CallRecord>>,
    deadline: tokio::time::Instant,
    timeout: Duration,
}

impl Caller {
    /// Runs one call under the deadline and records it. `depth` is the call's place in its
    /// chain of dependent calls (1 for a call that waits on none), for the critical path.
    async fn call<T, E, F>(
        &self,
        operation: &str,
        target: &str,
        depth: u32,
        fut: F,
    ) -> Result<T, CallError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let result = self.within_deadline(fut).await;
        // A call the deadline stopped before it started sent nothing: not a request.
        if !matches!(&result, Err(e) if e.code == NOT_SENT) {
            self.record(operation, target, depth, started, &result);
        }
        result
    }

    /// The next page of a paginated list call. The paginator's final `None` sends no request,
    /// so it is not recorded as one.
    async fn page<T, E, F>(
        &self,
        operation: &str,
        target: &str,
        depth: u32,
        next: F,
    ) -> Result<Option<T>, CallError>
    where
        F: Future<Output = Option<Result<T, SdkError<E, HttpResponse>>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let result = self.within_deadline(async { next.await.transpose() }).await;
        let not_sent = matches!(&result, Err(e) if e.code == NOT_SENT);
        if !matches!(result, Ok(None)) && !not_sent {
            self.record(operation, target, depth, started, &result);
        }
        result
    }

    async fn within_deadline<T, E, F>(&self, fut: F) -> Result<T, CallError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if tokio::time::Instant::now() >= self.deadline {
            return Err(CallError {
                code: NOT_SENT.to_string(),
                message: "not sent: the --timeout was used up by earlier calls".to_string(),
                status: None,
                bucket_region: None,
                kind: ErrorKind::Timeout,
            });
        }
        match tokio::time::timeout_at(self.deadline, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e)),
            Err(_) => Err(CallError {
                code: String::new(),
                message: "overall --timeout reached".to_string(),
                status: None,
                bucket_region: None,
                kind: ErrorKind::Timeout,
            }),
        }
    }

    fn record<T>(
        &self,
        operation: &str,
        target: &str,
        depth: u32,
        started: Instant,
        result: &Result<T, CallError>,
    ) {
        let outcome = match result {
            Ok(_) => "ok".to_string(),
            Err(e) if e.kind == ErrorKind::Timeout => "timeout".to_string(),
            Err(e) if !e.code.is_empty() => e.code.clone(),
            Err(e) => match e.status {
                Some(s) => format!("HTTP {s}"),
                None => "not sent".to_string(),
            },
        };
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(CallRecord {
                operation: operation.to_string(),
                target: target.to_string(),
                outcome,
                depth,
                millis: started.elapsed().as_millis() as u64,
            });
        }
    }

    /// The fact a call that needed `permission` on `resource` could not give.
    fn failed<T>(&self, e: &CallError, permission: &str, resource: &str) -> Fact<T> {
        Fact::Failed(e.failure(permission, resource, self.timeout))
    }

    /// [`Caller::failed`] for a whole group of facts that the failed call would have led to.
    fn missing(&self, e: &CallError, permission: &str, resource: &str) -> Missing {
        Missing::Failed(e.failure(permission, resource, self.timeout))
    }
}

type Cells<K, V> = Mutex<HashMap<K, Arc<OnceCell<V>>>>;

/// One run's connection to AWS, shared by every attachment it checks: each fact (a role, a
/// key, a bucket, the caller's identity) is fetched once per set of credentials, however many
/// attachments share it.
pub struct LiveSession {
    options: LiveOptions,
    configs: Cells<(Access, String), aws_config::SdkConfig>,
    callers: Cells<Access, Fact<CallerIdentity>>,
    buckets: Cells<(Access, String), BucketFacts>,
    keys: Cells<(Access, String), KeyFacts>,
    roles: Cells<(Access, String), RoleFacts>,
}

/// The value of `key`'s cell, computed by `init` by whoever asks first; others wait for it.
async fn once<K, V, F>(cells: &Cells<K, V>, key: K, init: F) -> V
where
    K: Eq + std::hash::Hash,
    V: Clone,
    F: Future<Output = V>,
{
    let cell = match cells.lock() {
        Ok(mut map) => map.entry(key).or_default().clone(),
        // A poisoned map only means another task panicked; compute without sharing.
        Err(_) => Arc::new(OnceCell::new()),
    };
    cell.get_or_init(|| init).await.clone()
}

impl LiveSession {
    pub fn new(options: LiveOptions) -> Self {
        LiveSession {
            options,
            configs: Mutex::default(),
            callers: Mutex::default(),
            buckets: Mutex::default(),
            keys: Mutex::default(),
            roles: Mutex::default(),
        }
    }

    async fn config(&self, access: &Access, region: &str) -> aws_config::SdkConfig {
        once(
            &self.configs,
            (access.clone(), region.to_string()),
            load_config(&self.options, access, region),
        )
        .await
    }

    /// Reads every fact the checks need for one attachment.
    pub async fn gather(&self, attachment: &Attachment, values: &Values, access: &Access) -> Facts {
        let region = values
            .region
            .clone()
            .unwrap_or_else(|| attachment.region.clone());
        let config = self.config(access, &region).await;
        let caller = Caller {
            calls: Mutex::new(Vec::new()),
            deadline: tokio::time::Instant::now() + self.options.timeout,
            timeout: self.options.timeout,
        };
        let opts = &self.options;
        let bucket_key = values.bucket.clone().unwrap_or_default();
        let key_key = attachment.kms_key.clone();
        let role_key = values
            .role
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default();

        let (identity, bucket, key, role) = tokio::join!(
            once(
                &self.callers,
                access.clone(),
                caller_identity(&caller, &config, opts, access)
            ),
            once(
                &self.buckets,
                (access.clone(), bucket_key),
                bucket_facts(&caller, &config, opts, values)
            ),
            once(
                &self.keys,
                (access.clone(), key_key),
                key_facts(&caller, &config, values)
            ),
            once(
                &self.roles,
                (access.clone(), role_key),
                role_facts(&caller, &config, values)
            ),
        );

        let mut facts = Facts {
            mode: Mode::Live,
            caller: identity,
            ..Facts::default()
        };
        facts.bucket_head = bucket.head;
        facts.bucket_region = bucket.region;
        facts.bucket_owner_account = bucket.owner;
        facts.bucket_not_owned_by = bucket.not_owned_by;
        facts.bucket_encryption = bucket.encryption;
        facts.public_access_block = bucket.public_access;
        facts.bucket_policy = bucket.policy;
        facts.caller_buckets = bucket.listed;
        facts.key = key.metadata;
        facts.key_aliases = key.aliases;
        facts.key_policy = key.policy;
        facts.role = role.role;
        facts.identity_policies = role.identity;
        facts.permissions_boundary = role.boundary;
        facts.role_trust_policy = role.trust;
        facts.probe = if self.options.probe {
            probe(&caller, &config, opts, values, &facts).await
        } else {
            Fact::Unavailable(
                "not requested (--probe writes to the bucket, so it is opt-in)".into(),
            )
        };
        facts.calls = caller.calls.into_inner().unwrap_or_default();
        facts
    }
}

async fn load_config(opts: &LiveOptions, access: &Access, region: &str) -> aws_config::SdkConfig {
    // Retries cover throttling and 5xx; per-attempt timeouts keep one stuck call from using
    // the whole budget.
    let attempt = (opts.timeout / 3).max(Duration::from_secs(1));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(attempt.min(Duration::from_secs(5)))
                .operation_attempt_timeout(attempt)
                .operation_timeout(opts.timeout)
                .build(),
        );
    if let Some(profile) = access.profile.as_ref().or(opts.profile.as_ref()) {
        // The default chain would try environment credentials before the profile; the aws CLI
        // uses the profile alone when asked for one, and so do we.
        loader = loader.profile_name(profile).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let base = loader.load().await;
    let Some(role) = &access.assume_role_arn else {
        return base;
    };
    // The usual central-audit pattern: read this account through a role assumed there.
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("aoc-preflight")
        .configure(&base);
    if let Some(id) = &access.assume_role_external_id {
        provider = provider.external_id(id);
    }
    let provider = provider.build().await;
    base.to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build()
}

async fn caller_identity(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    access: &Access,
) -> Fact<CallerIdentity> {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(CompleteXml)
            .build(),
    );
    match caller
        .call(
            "sts:GetCallerIdentity",
            "",
            1,
            sts.get_caller_identity().send(),
        )
        .await
    {
        Ok(out) => Fact::Known(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            credential_source: credential_source(opts, access),
        }),
        Err(e) if e.credentials_problem() => Fact::failed(
            e.failure_kind(),
            format!(
                "{CREDENTIALS_PROBLEM}: {}",
                if e.message.is_empty() {
                    &e.code
                } else {
                    &e.message
                }
            ),
        ),
        Err(e) => caller.failed(&e, "sts:GetCallerIdentity", "*"),
    }
}

#[derive(Clone)]
struct BucketFacts {
    head: Fact<BucketHead>,
    region: Fact<String>,
    encryption: Fact<Option<BucketEncryption>>,
    public_access: Fact<Option<PublicAccessBlock>>,
    policy: Fact<Option<NamedPolicy>>,
    /// The caller's buckets, listed only when the bucket does not exist.
    listed: Fact<Vec<String>>,
    owner: Fact<String>,
    not_owned_by: Vec<String>,
}

impl BucketFacts {
    fn missing(head: Option<Fact<BucketHead>>, why: &Missing) -> Self {
        BucketFacts {
            head: head.unwrap_or_else(|| why.fact()),
            region: why.fact(),
            encryption: why.fact(),
            public_access: why.fact(),
            policy: why.fact(),
            listed: Fact::Unavailable("listed only when the bucket does not exist".into()),
            owner: why.fact(),
            not_owned_by: Vec::new(),
        }
    }
}

/// `GetBucketLocation`'s answer as a region name: empty is us-east-1, `EU` is eu-west-1
/// (S3 API Reference, GetBucketLocation).
pub fn normalize_location(constraint: &str) -> String {
    match constraint {
        "" => "us-east-1".to_string(),
        "EU" => "eu-west-1".to_string(),
        other => other.to_string(),
    }
}

fn s3_client(
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    region: &str,
) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .force_path_style(opts.endpoint_url.is_some())
        .interceptor(CompleteXml)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn bucket_facts(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    values: &Values,
) -> BucketFacts {
    let Some(bucket) = values.bucket.as_deref() else {
        return BucketFacts::missing(
            None,
            &Missing::Unavailable("needs a well-formed bucket name (input.values)".to_string()),
        );
    };
    let bucket_arn = format!(
        "arn:{}:s3:::{bucket}",
        values.partition.as_deref().unwrap_or("aws")
    );
    let default_region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_string());
    let s3 = s3_client(config, opts, &default_region);

    let head = caller
        .call(
            "s3:HeadBucket",
            bucket,
            1,
            s3.head_bucket().bucket(bucket).send(),
        )
        .await;
    let (head_fact, header_region) = match &head {
        Ok(out) => (
            Fact::Known(BucketHead {
                status: 200,
                region: out.bucket_region().map(str::to_string),
            }),
            out.bucket_region().map(str::to_string),
        ),
        // These statuses are answers about the bucket (301 another region, 403 not readable,
        // 404 no such bucket); any other error is the call failing, not a finding.
        Err(e) if e.kind == ErrorKind::Service && matches!(e.status, Some(301 | 403 | 404)) => (
            Fact::Known(BucketHead {
                status: e.status.unwrap_or_default(),
                region: e.bucket_region.clone(),
            }),
            e.bucket_region.clone(),
        ),
        Err(e) => (
            caller.failed(e, "s3:ListBucket (HeadBucket)", &bucket_arn),
            e.bucket_region.clone(),
        ),
    };
    let status = head_fact.known().map(|h| h.status);
    let answered = match &head {
        Ok(_) => true,
        Err(e) => matches!(e.kind, ErrorKind::Service | ErrorKind::Unreadable),
    };
    if status == Some(404) {
        let mut facts = BucketFacts::missing(
            Some(head_fact),
            &Missing::Unavailable(format!(
                "the bucket {bucket} does not exist (bucket.reachable)"
            )),
        );
        // A typo is the usual cause: the caller's own bucket list may hold the name meant.
        // Optional: a refusal only means no suggestion from it.
        facts.listed = match caller
            .call("s3:ListBuckets", "", 2, s3.list_buckets().send())
            .await
        {
            Ok(out) => Fact::Known(
                out.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string))
                    .collect(),
            ),
            Err(e) => Fact::Unavailable(format!("s3:ListBuckets: {}", e.brief())),
        };
        return facts;
    }
    if !answered {
        // No answer at all: the reads below would fail the same way.
        let why = Missing::of(&head_fact);
        return BucketFacts::missing(Some(head_fact), &why);
    }

    // The region: from HeadBucket's header, else GetBucketLocation (one more round trip).
    let after_region = if header_region.is_some() { 2 } else { 3 };
    let region_fact = match header_region {
        Some(r) => Fact::Known(r),
        None => match caller
            .call(
                "s3:GetBucketLocation",
                bucket,
                2,
                s3.get_bucket_location().bucket(bucket).send(),
            )
            .await
        {
            Ok(out) => Fact::Known(normalize_location(
                out.location_constraint().map(|c| c.as_str()).unwrap_or(""),
            )),
            Err(e) => caller.failed(&e, "s3:GetBucketLocation", &bucket_arn),
        },
    };
    // The reads below go to the bucket's region. When asking for it ran out of time they are
    // not sent, and say why; when it was refused, they go to the AoC region and may still work.
    if let (Fact::Failed(why), true) =
        (&region_fact, tokio::time::Instant::now() >= caller.deadline)
    {
        let missing = Missing::Failed(Failure::new(
            why.kind,
            format!("needs the bucket's region: {}", why.message),
        ));
        let mut facts = BucketFacts::missing(Some(head_fact), &missing);
        facts.region = region_fact;
        return facts;
    }
    // Later calls go to the bucket's own region, whatever the default region is.
    let s3 = match region_fact.known() {
        Some(r) if *r != default_region => s3_client(config, opts, r),
        _ => s3,
    };

    let readable = matches!(status, Some(200 | 301));
    let (encryption, public_access, policy, owner) = tokio::join!(
        async {
            match caller
                .call(
                    "s3:GetBucketEncryption",
                    bucket,
                    after_region,
                    s3.get_bucket_encryption().bucket(bucket).send(),
                )
                .await
            {
                Ok(out) => {
                    let rule = out
                        .server_side_encryption_configuration()
                        .and_then(|c| c.rules().first());
                    Fact::Known(rule.and_then(|r| {
                        r.apply_server_side_encryption_by_default()
                            .map(|d| BucketEncryption {
                                algorithm: d.sse_algorithm().as_str().to_string(),
                                kms_key_id: d.kms_master_key_id().map(str::to_string),
                                bucket_key_enabled: r.bucket_key_enabled().unwrap_or(false),
                            })
                    }))
                }
                Err(e) if e.is(&["ServerSideEncryptionConfigurationNotFoundError"]) => {
                    Fact::Known(None)
                }
                Err(e) => caller.failed(&e, "s3:GetEncryptionConfiguration", &bucket_arn),
            }
        },
        async {
            match caller
                .call(
                    "s3:GetPublicAccessBlock",
                    bucket,
                    after_region,
                    s3.get_public_access_block().bucket(bucket).send(),
                )
                .await
            {
                Ok(out) => Fact::Known(out.public_access_block_configuration().map(|c| {
                    PublicAccessBlock {
                        block_public_acls: c.block_public_acls().unwrap_or(false),
                        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                        block_public_policy: c.block_public_policy().unwrap_or(false),
                        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                    }
                })),
                Err(e) if e.is(&["NoSuchPublicAccessBlockConfiguration"]) => Fact::Known(None),
                Err(e) => caller.failed(&e, "s3:GetBucketPublicAccessBlock", &bucket_arn),
            }
        },
        async {
            match caller
                .call(
                    "s3:GetBucketPolicy",
                    bucket,
                    after_region,
                    s3.get_bucket_policy().bucket(bucket).send(),
                )
                .await
            {
                Ok(out) => match out.policy() {
                    Some(text) => {
                        policy_fact(text, format!("bucket policy of {bucket}")).map_some()
                    }
                    None => Fact::Known(None),
                },
                Err(e) if e.is(&["NoSuchBucketPolicy"]) => Fact::Known(None),
                Err(e) => caller.failed(&e, "s3:GetBucketPolicy", &bucket_arn),
            }
        },
        bucket_owner(caller, &s3, bucket, values, readable, after_region),
    );
    let (owner, not_owned_by) = owner;

    BucketFacts {
        head: head_fact,
        region: region_fact,
        encryption,
        public_access,
        policy,
        listed: Fact::Unavailable("listed only when the bucket does not exist".into()),
        owner,
        not_owned_by,
    }
}

/// Who owns the bucket, established rather than guessed: HeadBucket with `ExpectedBucketOwner`
/// set to the role's account succeeds only when that account owns the bucket, and answers 403
/// when another does (S3 User Guide, "Verifying bucket ownership with bucket owner condition",
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html>).
/// Also returns the accounts known not to own it.
async fn bucket_owner(
    caller: &Caller,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    values: &Values,
    readable: bool,
    depth: u32,
) -> (Fact<String>, Vec<String>) {
    let Some(account) = values.role.as_ref().map(|r| r.account.clone()) else {
        return (
            Fact::Unavailable("needs a well-formed role ARN (input.values)".into()),
            Vec::new(),
        );
    };
    // Without read access a 403 would not tell another owner from a refusal.
    if !readable {
        return (
            Fact::Unavailable(
                "not established: HeadBucket is refused to the tool (bucket.reachable)".into(),
            ),
            Vec::new(),
        );
    }
    let asked = caller
        .call(
            "s3:HeadBucket",
            &format!("{bucket} (ExpectedBucketOwner {account})"),
            depth,
            s3.head_bucket()
                .bucket(bucket)
                .expected_bucket_owner(&account)
                .send(),
        )
        .await;
    match asked {
        Ok(_) => (Fact::Known(account), Vec::new()),
        Err(e) if e.kind == ErrorKind::Service && e.status == Some(403) => (
            Fact::Unavailable(format!(
                "not the role's account {account} (HeadBucket with ExpectedBucketOwner {account} answered 403); which account owns it is not known"
            )),
            vec![account],
        ),
        Err(e) => (
            Fact::Unavailable(format!(
                "not established: HeadBucket with ExpectedBucketOwner answered {}",
                e.brief()
            )),
            Vec::new(),
        ),
    }
}

/// A policy document from AWS, parsed. A document AWS returned that does not parse is not
/// the user's input error: the checks that need it are `error`, with the parser's reason.
fn policy_fact(text: &str, label: String) -> Fact<NamedPolicy> {
    match parse_policy(text) {
        Ok(document) => Fact::Known(NamedPolicy { label, document }),
        Err(e) => Fact::failed(
            FailureKind::Other,
            format!(
                "{label} as returned by AWS does not parse: line {}, column {}: {}",
                e.line, e.column, e.message
            ),
        ),
    }
}

/// Why a group of facts is missing; makes a `Fact` of any type.
#[derive(Clone)]
enum Missing {
    Unavailable(String),
    Failed(Failure),
}

impl Missing {
    fn fact<T>(&self) -> Fact<T> {
        match self {
            Missing::Unavailable(w) => Fact::Unavailable(w.clone()),
            Missing::Failed(w) => Fact::Failed(w.clone()),
        }
    }

    /// The reason behind a fact that is not known.
    fn of<T>(fact: &Fact<T>) -> Missing {
        match fact {
            Fact::Unavailable(w) => Missing::Unavailable(w.clone()),
            Fact::Failed(w) => Missing::Failed(w.clone()),
            Fact::Known(_) => Missing::Failed(Failure::new(FailureKind::Other, String::new())),
        }
    }
}

trait MapSome<T> {
    fn map_some(self) -> Fact<Option<T>>;
}

impl<T> MapSome<T> for Fact<T> {
    fn map_some(self) -> Fact<Option<T>> {
        match self {
            Fact::Known(v) => Fact::Known(Some(v)),
            Fact::Unavailable(w) => Fact::Unavailable(w),
            Fact::Failed(w) => Fact::Failed(w),
        }
    }
}

#[derive(Clone)]
struct KeyFacts {
    metadata: Fact<Option<KeyMetadata>>,
    aliases: Fact<Vec<String>>,
    policy: Fact<NamedPolicy>,
}

impl KeyFacts {
    fn missing(metadata: Option<Fact<Option<KeyMetadata>>>, why: &Missing) -> Self {
        KeyFacts {
            metadata: metadata.unwrap_or_else(|| why.fact()),
            aliases: why.fact(),
            policy: why.fact(),
        }
    }
}

async fn key_facts(caller: &Caller, config: &aws_config::SdkConfig, values: &Values) -> KeyFacts {
    let (key_id, key_region) = match &values.key {
        Some(KmsKeyRef::Key(arn) | KmsKeyRef::Alias(arn)) => (arn.to_string(), arn.region.clone()),
        Some(KmsKeyRef::BareId(id)) => (id.clone(), values.region.clone().unwrap_or_default()),
        None => {
            return KeyFacts::missing(
                None,
                &Missing::Unavailable("needs a well-formed KMS key (input.values)".to_string()),
            );
        }
    };
    // KMS calls go to the key's own region.
    let kms = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(config)
            .region(aws_sdk_kms::config::Region::new(key_region))
            .build(),
    );
    let described = caller
        .call(
            "kms:DescribeKey",
            &key_id,
            1,
            kms.describe_key().key_id(&key_id).send(),
        )
        .await;
    let meta = match described {
        Ok(out) => match out.key_metadata() {
            Some(m) => m.clone(),
            None => {
                return KeyFacts::missing(
                    None,
                    &Missing::Failed(Failure::new(
                        FailureKind::Other,
                        "kms:DescribeKey returned no key metadata",
                    )),
                );
            }
        },
        Err(e) if e.is(&["NotFoundException"]) => {
            return KeyFacts::missing(
                Some(Fact::Known(None)),
                &Missing::Unavailable(format!("KMS has no key {key_id} (kms.key, kms.alias)")),
            );
        }
        Err(e) => {
            let why = caller.missing(&e, "kms:DescribeKey", &key_id);
            return KeyFacts::missing(None, &why);
        }
    };
    let key_arn = meta.arn().unwrap_or(&key_id).to_string();
    let metadata = KeyMetadata {
        arn: key_arn.clone(),
        key_id: meta.key_id().to_string(),
        enabled: meta.enabled(),
        key_state: meta
            .key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        key_usage: meta
            .key_usage()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        key_spec: meta
            .key_spec()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        key_manager: meta
            .key_manager()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        deletion_date: meta.deletion_date().and_then(|d| {
            d.fmt(aws_sdk_kms::primitives::DateTimeFormat::DateTime)
                .ok()
        }),
    };

    let key_uuid = metadata.key_id.clone();
    let (aliases, policy) = tokio::join!(
        async {
            let mut names = Vec::new();
            let mut alias_depth = 1;
            let mut pages = kms.list_aliases().key_id(&key_uuid).into_paginator().send();
            loop {
                let page = caller
                    .page("kms:ListAliases", &key_arn, alias_depth + 1, pages.next())
                    .await;
                match page {
                    Ok(Some(p)) => {
                        alias_depth += 1;
                        names.extend(
                            p.aliases()
                                .iter()
                                .filter_map(|a| a.alias_name().map(str::to_string)),
                        )
                    }
                    Ok(None) => break Fact::Known(names),
                    Err(e) => break caller.failed(&e, "kms:ListAliases", "*"),
                }
            }
        },
        async {
            match caller
                .call(
                    "kms:GetKeyPolicy",
                    &key_arn,
                    2,
                    kms.get_key_policy()
                        .key_id(&key_arn)
                        .policy_name("default")
                        .send(),
                )
                .await
            {
                Ok(out) => match out.policy() {
                    Some(text) => policy_fact(text, "key policy".to_string()),
                    None => Fact::failed(FailureKind::Other, "kms:GetKeyPolicy returned no policy"),
                },
                Err(e) => caller.failed(&e, "kms:GetKeyPolicy", &key_arn),
            }
        },
    );
    KeyFacts {
        metadata: Fact::Known(Some(metadata)),
        aliases,
        policy,
    }
}

#[derive(Clone)]
struct RoleFacts {
    role: Fact<Option<RoleInfo>>,
    identity: Fact<Vec<NamedPolicy>>,
    boundary: Fact<Option<NamedPolicy>>,
    trust: Fact<NamedPolicy>,
}

impl RoleFacts {
    fn missing(role: Option<Fact<Option<RoleInfo>>>, why: &Missing) -> Self {
        RoleFacts {
            role: role.unwrap_or_else(|| why.fact()),
            identity: why.fact(),
            boundary: why.fact(),
            trust: why.fact(),
        }
    }
}

async fn role_facts(caller: &Caller, config: &aws_config::SdkConfig, values: &Values) -> RoleFacts {
    let Some(role_arn) = values.role.as_ref() else {
        return RoleFacts::missing(
            None,
            &Missing::Unavailable("needs a well-formed role ARN (input.values)".to_string()),
        );
    };
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(config)
            .interceptor(CompleteXml)
            .build(),
    );
    let name = role_arn.resource_name().to_string();
    let arn_text = role_arn.to_string();

    // The policy lists need only the role's name, so they start with GetRole instead of
    // after it: that takes one round trip off the longest chain of the run (role → attached
    // policies → policy version). The boundary's ARN comes from GetRole, so its fetch follows
    // GetRole within the same branch.
    let role_and_boundary = async {
        let got = caller
            .call(
                "iam:GetRole",
                &name,
                1,
                iam.get_role().role_name(&name).send(),
            )
            .await;
        let role = match got {
            Ok(out) => match out.role() {
                Some(r) => r.clone(),
                None => {
                    return Err(RoleFacts::missing(
                        None,
                        &Missing::Failed(Failure::new(
                            FailureKind::Other,
                            "iam:GetRole returned no role",
                        )),
                    ));
                }
            },
            Err(e) if e.is(&["NoSuchEntity"]) => {
                return Err(RoleFacts::missing(
                    Some(Fact::Known(None)),
                    &Missing::Unavailable(format!("the role {name} does not exist (role.exists)")),
                ));
            }
            Err(e) => {
                let why = caller.missing(&e, "iam:GetRole", &arn_text);
                return Err(RoleFacts::missing(None, &why));
            }
        };
        let boundary_arn = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string);
        let boundary = match &boundary_arn {
            None => Fact::Known(None),
            Some(arn) => managed_policy(caller, &iam, arn, "permissions boundary", 2)
                .await
                .map_some(),
        };
        let info = RoleInfo {
            arn: role.arn().to_string(),
            role_id: role.role_id().to_string(),
            permissions_boundary_arn: boundary_arn,
        };
        let trust = match role.assume_role_policy_document() {
            Some(doc) => policy_fact(doc, format!("trust policy of role {name}")),
            None => Fact::failed(FailureKind::Other, "iam:GetRole returned no trust policy"),
        };
        Ok((info, trust, boundary))
    };
    let (role, inline, attached) = tokio::join!(
        role_and_boundary,
        inline_policies(caller, &iam, &name, &arn_text),
        attached_policies(caller, &iam, &name, &arn_text),
    );
    // Without the role, what the lists said (no such entity, most likely) adds nothing.
    let (info, trust, boundary) = match role {
        Ok(found) => found,
        Err(missing) => return missing,
    };
    let identity = match (inline, attached) {
        (Fact::Known(mut a), Fact::Known(b)) => {
            a.extend(b);
            Fact::Known(a)
        }
        (Fact::Failed(w), _) | (_, Fact::Failed(w)) => Fact::Failed(w),
        (Fact::Unavailable(w), _) | (_, Fact::Unavailable(w)) => Fact::Unavailable(w),
    };
    RoleFacts {
        role: Fact::Known(Some(info)),
        identity,
        boundary,
        trust,
    }
}

async fn inline_policies(
    caller: &Caller,
    iam: &aws_sdk_iam::Client,
    role: &str,
    role_arn: &str,
) -> Fact<Vec<NamedPolicy>> {
    let mut names = Vec::new();
    // Pages of a list wait on each other; the first waits on nothing.
    let mut list_depth = 0;
    let mut pages = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    loop {
        match caller
            .page("iam:ListRolePolicies", role, list_depth + 1, pages.next())
            .await
        {
            Ok(Some(p)) => {
                list_depth += 1;
                names.extend(p.policy_names().iter().cloned())
            }
            Ok(None) => break,
            Err(e) => return caller.failed(&e, "iam:ListRolePolicies", role_arn),
        }
    }
    let list_depth: u32 = list_depth;
    let fetches = names.iter().map(|n| async move {
        match caller
            .call(
                "iam:GetRolePolicy",
                &format!("{role}/{n}"),
                list_depth + 1,
                iam.get_role_policy().role_name(role).policy_name(n).send(),
            )
            .await
        {
            Ok(out) => policy_fact(out.policy_document(), format!("inline policy {n}")),
            Err(e) => caller.failed(&e, "iam:GetRolePolicy", role_arn),
        }
    });
    collect_policies(join_all(fetches).await)
}

async fn attached_policies(
    caller: &Caller,
    iam: &aws_sdk_iam::Client,
    role: &str,
    role_arn: &str,
) -> Fact<Vec<NamedPolicy>> {
    let mut arns = Vec::new();
    let mut list_depth = 0;
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    loop {
        match caller
            .page(
                "iam:ListAttachedRolePolicies",
                role,
                list_depth + 1,
                pages.next(),
            )
            .await
        {
            Ok(Some(p)) => {
                list_depth += 1;
                arns.extend(
                    p.attached_policies()
                        .iter()
                        .filter_map(|a| a.policy_arn().map(str::to_string)),
                )
            }
            Ok(None) => break,
            Err(e) => return caller.failed(&e, "iam:ListAttachedRolePolicies", role_arn),
        }
    }
    let fetches = arns
        .iter()
        .map(|arn| managed_policy(caller, iam, arn, "managed policy", list_depth + 1));
    collect_policies(join_all(fetches).await)
}

/// A managed policy's default version (GetPolicy, then GetPolicyVersion).
async fn managed_policy(
    caller: &Caller,
    iam: &aws_sdk_iam::Client,
    arn: &str,
    what: &str,
    depth: u32,
) -> Fact<NamedPolicy> {
    let version = match caller
        .call(
            "iam:GetPolicy",
            arn,
            depth,
            iam.get_policy().policy_arn(arn).send(),
        )
        .await
    {
        Ok(out) => match out.policy().and_then(|p| p.default_version_id()) {
            Some(v) => v.to_string(),
            None => {
                return Fact::failed(
                    FailureKind::Other,
                    format!("iam:GetPolicy on {arn} gave no default version"),
                );
            }
        },
        Err(e) => return caller.failed(&e, "iam:GetPolicy", arn),
    };
    match caller
        .call(
            "iam:GetPolicyVersion",
            arn,
            depth + 1,
            iam.get_policy_version()
                .policy_arn(arn)
                .version_id(&version)
                .send(),
        )
        .await
    {
        Ok(out) => match out.policy_version().and_then(|v| v.document()) {
            Some(doc) => policy_fact(doc, format!("{what} {arn}")),
            None => Fact::failed(
                FailureKind::Other,
                format!("iam:GetPolicyVersion on {arn} gave no document"),
            ),
        },
        Err(e) => caller.failed(&e, "iam:GetPolicyVersion", arn),
    }
}

fn collect_policies(facts: Vec<Fact<NamedPolicy>>) -> Fact<Vec<NamedPolicy>> {
    let mut out = Vec::new();
    for f in facts {
        match f {
            Fact::Known(p) => out.push(p),
            Fact::Failed(w) => return Fact::Failed(w),
            Fact::Unavailable(w) => return Fact::Unavailable(w),
        }
    }
    Fact::Known(out)
}

/// The end-to-end write probe (`--probe`, the only mode that writes): as the tool's own
/// credentials, under the attachment's path, the operations ATS performs — an SSE-KMS
/// PutObject naming the key, a GetObject compared with what was written, a multipart upload
/// started, a part uploaded, the upload listed and aborted, and the object deleted. It touches
/// no other key, and cleans up even when a step fails or the user presses Ctrl-C.
async fn probe(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    opts: &LiveOptions,
    values: &Values,
    facts: &Facts,
) -> Fact<crate::model::facts::ProbeOutcome> {
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::ServerSideEncryption;

    use crate::model::facts::{ProbeOutcome, ProbeStep};

    let (Some(bucket), Some(prefix)) = (values.bucket.as_deref(), values.prefix.as_deref()) else {
        return Fact::Unavailable("needs a well-formed bucket and path (input.values)".into());
    };
    let Some(region) = facts.bucket_region.known() else {
        return Fact::Unavailable("the bucket's region is not known (bucket.region)".into());
    };
    if facts.bucket_head.known().map(|h| h.status) == Some(404) {
        return Fact::Unavailable(format!(
            "the bucket {bucket} does not exist (bucket.reachable)"
        ));
    }
    let kms_key = facts
        .key
        .known()
        .and_then(|k| k.as_ref())
        .map(|k| k.arn.clone())
        .or_else(|| values.key.as_ref().and_then(|k| k.key_arn()));
    let s3 = s3_client(config, opts, region);
    let nonce = format!(
        "{:x}{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
        std::process::id()
    );
    let key = format!("{prefix}.aoc-preflight-probe-{nonce}");
    let body = format!("aoc-preflight probe {nonce}\n");
    let mut outcome = ProbeOutcome {
        object_key: key.clone(),
        ..ProbeOutcome::default()
    };
    let mut object_written = false;
    let mut upload_id: Option<String> = None;

    let steps = async {
        let mut put = s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(ByteStream::from(body.clone().into_bytes()))
            .server_side_encryption(ServerSideEncryption::AwsKms);
        if let Some(k) = &kms_key {
            put = put.ssekms_key_id(k);
        }
        match caller.call("s3:PutObject", &key, 1, put.send()).await {
            Ok(_) => {
                object_written = true;
                step(&mut outcome, "PutObject (SSE-KMS)", Ok("written".into()));
            }
            Err(e) => return step(&mut outcome, "PutObject (SSE-KMS)", Err(e)),
        }
        let read = caller
            .call(
                "s3:GetObject",
                &key,
                2,
                s3.get_object().bucket(bucket).key(&key).send(),
            )
            .await;
        let read = match read {
            Ok(out) => match out.body.collect().await.map(|b| b.to_vec()) {
                Ok(bytes) if bytes == body.as_bytes() => Ok("read back, same bytes".into()),
                Ok(_) => Err(CallError {
                    code: "Mismatch".into(),
                    message: "the object read back differs from what was written".into(),
                    status: None,
                    bucket_region: None,
                    kind: ErrorKind::Service,
                }),
                Err(e) => Err(CallError {
                    code: String::new(),
                    message: format!("reading the body failed: {e}"),
                    status: None,
                    bucket_region: None,
                    kind: ErrorKind::Transport,
                }),
            },
            Err(e) => Err(e),
        };
        if !step(&mut outcome, "GetObject", read) {
            return false;
        }
        let mut create = s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(&key)
            .server_side_encryption(ServerSideEncryption::AwsKms);
        if let Some(k) = &kms_key {
            create = create.ssekms_key_id(k);
        }
        match caller
            .call("s3:CreateMultipartUpload", &key, 3, create.send())
            .await
        {
            Ok(out) => {
                upload_id = out.upload_id().map(str::to_string);
                step(
                    &mut outcome,
                    "CreateMultipartUpload (SSE-KMS)",
                    Ok("started".into()),
                );
            }
            Err(e) => return step(&mut outcome, "CreateMultipartUpload (SSE-KMS)", Err(e)),
        }
        let Some(id) = upload_id.clone() else {
            return step(
                &mut outcome,
                "CreateMultipartUpload (SSE-KMS)",
                Err(CallError {
                    code: String::new(),
                    message: "no upload ID in the answer".into(),
                    status: None,
                    bucket_region: None,
                    kind: ErrorKind::Service,
                }),
            );
        };
        let part = caller
            .call(
                "s3:UploadPart",
                &key,
                4,
                s3.upload_part()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&id)
                    .part_number(1)
                    .body(ByteStream::from(body.clone().into_bytes()))
                    .send(),
            )
            .await
            .map(|_| "part 1 uploaded".to_string());
        if !step(&mut outcome, "UploadPart", part) {
            return false;
        }
        // ListMultipartUploads (what AoC lists to resume uploads) rather than ListParts:
        // both are needed by AoC, and moto answers ListParts with a document the SDK rejects.
        let listed = caller
            .call(
                "s3:ListMultipartUploads",
                &key,
                5,
                s3.list_multipart_uploads()
                    .bucket(bucket)
                    .prefix(&key)
                    .send(),
            )
            .await
            .and_then(|out| {
                if out
                    .uploads()
                    .iter()
                    .any(|u| u.upload_id() == Some(id.as_str()))
                {
                    Ok("the upload is listed".to_string())
                } else {
                    Err(CallError {
                        code: "NotListed".into(),
                        message: "the upload just started is not listed".into(),
                        status: None,
                        bucket_region: None,
                        kind: ErrorKind::Service,
                    })
                }
            });
        if !step(&mut outcome, "ListMultipartUploads", listed) {
            return false;
        }
        let aborted = caller
            .call(
                "s3:AbortMultipartUpload",
                &key,
                6,
                s3.abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&id)
                    .send(),
            )
            .await
            .map(|_| "aborted".to_string());
        if aborted.is_ok() {
            upload_id = None;
        }
        if !step(&mut outcome, "AbortMultipartUpload", aborted) {
            return false;
        }
        let deleted = caller
            .call(
                "s3:DeleteObject",
                &key,
                7,
                s3.delete_object().bucket(bucket).key(&key).send(),
            )
            .await
            .map(|_| "deleted".to_string());
        if deleted.is_ok() {
            object_written = false;
        }
        step(&mut outcome, "DeleteObject", deleted)
    };
    // Ctrl-C stops the steps, never the clean-up below.
    tokio::select! {
        _ = steps => {}
        _ = tokio::signal::ctrl_c() => {
            outcome.steps.push(ProbeStep {
                step: "interrupted".into(),
                ok: false,
                detail: "Ctrl-C: stopped and cleaned up".into(),
            });
        }
    }

    // Clean up whatever a failed or interrupted run left.
    if let Some(id) = upload_id {
        let r = caller
            .call(
                "s3:AbortMultipartUpload",
                &key,
                8,
                s3.abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&id)
                    .send(),
            )
            .await;
        if r.is_err() {
            outcome
                .left_behind
                .push(format!("multipart upload {id} of s3://{bucket}/{key}"));
        }
    }
    if object_written {
        let r = caller
            .call(
                "s3:DeleteObject",
                &key,
                8,
                s3.delete_object().bucket(bucket).key(&key).send(),
            )
            .await;
        if r.is_err() {
            outcome.left_behind.push(format!("s3://{bucket}/{key}"));
        }
    }
    Fact::Known(outcome)
}

/// Records a probe step; true when it succeeded.
fn step(
    outcome: &mut crate::model::facts::ProbeOutcome,
    name: &str,
    result: Result<String, CallError>,
) -> bool {
    let (ok, detail) = match result {
        Ok(d) => (true, d),
        Err(e) => (false, e.brief()),
    };
    outcome.steps.push(crate::model::facts::ProbeStep {
        step: name.to_string(),
        ok,
        detail,
    });
    ok
}

/// Rejects a successful answer whose XML document is not complete. The SDK's XML reader takes
/// a document cut short as if it were whole, filling what is missing with empty values: a
/// policy list cut off could silently drop a Deny, so such an answer must be an error.
#[derive(Debug)]
struct CompleteXml;

/// The text that marks an answer [`CompleteXml`] rejected, for [`classify`].
const INCOMPLETE_ANSWER: &str = "the answer is not a complete XML document";

impl aws_sdk_s3::config::Intercept for CompleteXml {
    fn name(&self) -> &'static str {
        "CompleteXml"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_s3::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let response = context.response();
        if !(200..300).contains(&response.status().as_u16()) {
            return Ok(());
        }
        // Streaming bodies (GetObject) are not in memory here; GetBucketPolicy answers JSON.
        let Some(bytes) = response.body().bytes() else {
            return Ok(());
        };
        let is_xml = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        if is_xml && !xml_complete(bytes) {
            return Err(INCOMPLETE_ANSWER.into());
        }
        Ok(())
    }
}

/// True when `bytes` is one well-formed XML element (with optional prolog).
fn xml_complete(bytes: &[u8]) -> bool {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth: i64 = 0;
    let mut roots = 0;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::End(_)) => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Ok(Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(Event::Eof) => return depth == 0 && roots == 1,
            Ok(_) => {}
            Err(_) => return false,
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_source_follows_the_chain_in_order() {
        let opts = |profile: Option<&str>| LiveOptions {
            profile: profile.map(str::to_string),
            endpoint_url: None,
            timeout: Duration::from_secs(1),
            probe: false,
        };
        let access = |profile: Option<&str>| Access {
            profile: profile.map(str::to_string),
            assume_role_arn: None,
            assume_role_external_id: None,
        };
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(name, v)| *name == k && !v.is_empty())
                    .map(|(_, v)| v.to_string())
            }
        };
        let all: &[(&str, &str)] = &[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_PROFILE", "dev"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/token"),
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1/creds",
            ),
        ];
        // The attachment's profile wins, then --profile, then the chain's order.
        assert_eq!(
            credential_chain_source(&opts(Some("cli")), &access(Some("audit")), env(all)),
            "profile `audit` (attachment)"
        );
        assert_eq!(
            credential_chain_source(&opts(Some("cli")), &access(None), env(all)),
            "profile `cli` (--profile)"
        );
        assert_eq!(
            credential_chain_source(&opts(None), &access(None), env(all)),
            "environment variables (AWS_ACCESS_KEY_ID)"
        );
        assert_eq!(
            credential_chain_source(&opts(None), &access(None), env(&all[1..])),
            "profile `dev` (AWS_PROFILE)"
        );
        assert_eq!(
            credential_chain_source(&opts(None), &access(None), env(&all[2..])),
            "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)"
        );
        assert_eq!(
            credential_chain_source(&opts(None), &access(None), env(&all[3..])),
            "container credentials"
        );
        // An empty variable is not set.
        assert_eq!(
            credential_chain_source(
                &opts(None),
                &access(None),
                env(&[("AWS_ACCESS_KEY_ID", "")])
            ),
            "the default profile, SSO or instance metadata"
        );
    }

    #[test]
    fn complete_and_cut_xml() {
        assert!(xml_complete(b"<?xml version=\"1.0\"?>\n<A><B>x</B></A>\n"));
        assert!(xml_complete(b"<A/>"));
        assert!(!xml_complete(b"<A><B>x</B>"));
        assert!(!xml_complete(b"<A><B>x</A>"));
        assert!(!xml_complete(b"<A></A><B></B>"));
        assert!(!xml_complete(b"not xml"));
    }

    fn answered(code: &str, status: u16) -> CallError {
        CallError {
            code: code.to_string(),
            message: String::new(),
            status: Some(status),
            bucket_region: None,
            kind: ErrorKind::Service,
        }
    }

    /// What the SDK gives for a request it could not send, with `source` as its cause.
    fn not_sent(source: &str) -> CallError {
        use aws_sdk_s3::error::ConnectorError;
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let err: SdkError<GetCallerIdentityError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(source.to_string().into()));
        classify(err)
    }

    #[test]
    fn failures_are_told_apart_by_kind() {
        use FailureKind::*;
        let cases = [
            (answered("AccessDenied", 403), AccessDenied),
            (answered("AccessDeniedException", 400), AccessDenied),
            (answered("InvalidClientTokenId", 403), Credentials),
            (answered("SignatureDoesNotMatch", 403), Credentials),
            (answered("ExpiredToken", 400), ExpiredCredentials),
            (answered("ExpiredTokenException", 400), ExpiredCredentials),
            (answered("Throttling", 400), Service),
            (answered("InternalError", 500), Service),
            (not_sent("Connection refused (os error 111)"), Network),
            (
                not_sent("dns error: failed to lookup address information"),
                Network,
            ),
            (
                not_sent("an error occurred while loading credentials: no profile"),
                Credentials,
            ),
            (
                not_sent("failed to load credentials: the SSO session has expired"),
                ExpiredCredentials,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.failure_kind(), kind, "{error:?}");
        }
        let timed_out = CallError {
            kind: ErrorKind::Timeout,
            ..answered("", 0)
        };
        assert_eq!(timed_out.failure_kind(), Timeout);
        let unreadable = CallError {
            kind: ErrorKind::Unreadable,
            ..answered("", 200)
        };
        assert_eq!(unreadable.failure_kind(), Unreadable);
        // The message is the one the report always gave; the kind is added.
        let refused = answered("AccessDenied", 403).failure(
            "kms:GetKeyPolicy",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            Duration::from_secs(3),
        );
        assert_eq!(refused.kind, AccessDenied);
        assert!(
            refused
                .message
                .starts_with("the tool needs kms:GetKeyPolicy on arn:aws:kms:"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn locations_normalise() {
        assert_eq!(normalize_location(""), "us-east-1");
        assert_eq!(normalize_location("EU"), "eu-west-1");
        assert_eq!(normalize_location("ap-south-1"), "ap-south-1");
    }
}
