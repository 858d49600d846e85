//! Whose credentials and which configuration a run reads AWS with: the SDK configuration per
//! set of credentials and region (an attachment's [`Access`], `--profile`, `--endpoint-url`,
//! an audit role to assume), where the credentials come from for the report, and who they
//! turn out to be (`sts:GetCallerIdentity`).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use super::errors::CompleteXml;
use super::recorder::{Caller, operations};
use crate::model::attachment::Access;
use crate::model::facts::{CREDENTIALS_PROBLEM, CallerIdentity, Fact, FailureKind};

operations! {
    /// The STS reads.
    pub enum StsRead {
        GetCallerIdentity => "sts:GetCallerIdentity",
    }
}

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

pub(super) async fn load_config(
    opts: &LiveOptions,
    access: &Access,
    region: &str,
) -> aws_config::SdkConfig {
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

pub(super) async fn caller_identity(
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
            StsRead::GetCallerIdentity,
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
        // GetCallerIdentity needs no permission, and an explicit Deny does not stop it (STS
        // API Reference): a refusal is about the credentials (or a network path that vets
        // them, such as a VPC endpoint policy), never a permission to grant the tool.
        Err(e) if e.failure_kind() == FailureKind::AccessDenied => Fact::failed(
            FailureKind::Credentials,
            format!(
                "{CREDENTIALS_PROBLEM}: sts:GetCallerIdentity, which needs no permission, was refused ({}); \
                 AWS does not accept these credentials (or a VPC endpoint policy in the path refuses them)",
                e.brief()
            ),
        ),
        Err(e) => caller.failed(&e, "sts:GetCallerIdentity", "*"),
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
}
