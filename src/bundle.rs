//! Support bundles: everything a live run gathered, saved with `check --save-facts FILE` and
//! replayed offline with `check --facts FILE`, which judges the same facts and so gives the
//! same report. With `--redact` the bundle is redacted like every other output.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cli::InputArgs;
use crate::error::{UsageError, read_input};
use crate::model::attachment::Access;
use crate::model::attachment::Attachment;
use crate::model::facts::Facts;
use crate::policy::NamedPolicy;

pub const BUNDLE_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub schema_version: u32,
    pub tool_version: String,
    /// When the facts were gathered (RFC 3339, seconds); absent from bundles saved before it
    /// was recorded, which replay as gathered at an unknown time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gathered_at: Option<String>,
    pub entries: Vec<BundleEntry>,
}

/// One attachment and what was gathered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    pub attachment: Attachment,
    /// The trust policy pasted from AoC, when given (the attachment's JSON form leaves it out).
    #[serde(default)]
    pub aoc_trust_policy: Option<NamedPolicy>,
    pub facts: Facts,
}

impl Bundle {
    pub fn new(entries: Vec<BundleEntry>) -> Self {
        Bundle {
            schema_version: BUNDLE_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            gathered_at: Some(
                jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
                    .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
            ),
            entries,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a bundle; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Bundle, UsageError> {
        let text = read_input(path)?;
        // Editors on some systems save a byte-order mark; policies and configs accept it too.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let bundle: Bundle = serde_json::from_str(text).map_err(|e| {
            UsageError(format!(
                "{}:{}:{}: not a facts bundle: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if bundle.schema_version != BUNDLE_SCHEMA_VERSION {
            return Err(UsageError(format!(
                "{}: facts bundle schema_version {} is not supported (this version reads {})",
                path.display(),
                bundle.schema_version,
                BUNDLE_SCHEMA_VERSION
            )));
        }
        if bundle.entries.is_empty() {
            return Err(UsageError(format!(
                "{}: the facts bundle holds no attachment",
                path.display()
            )));
        }
        Ok(bundle)
    }

    /// Keeps the attachment named `name` (`--attachment NAME` with `--facts`); an error lists
    /// the names the bundle holds.
    pub fn select(&mut self, name: &str, path: &Path) -> Result<(), UsageError> {
        let names: Vec<String> = self
            .entries
            .iter()
            .filter_map(|e| e.attachment.name.clone())
            .collect();
        self.entries
            .retain(|e| e.attachment.name.as_deref() == Some(name));
        if self.entries.is_empty() {
            return Err(UsageError(format!(
                "--attachment: no attachment named `{name}` in {} (it holds: {})",
                path.display(),
                if names.is_empty() {
                    "none with a name".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// Every external ID the bundle holds (AoC's and those in trust policies), and the audit
    /// roles' ones, so that `--redact` replaces them whatever they look like.
    pub fn external_ids(&self, accesses: &[Access]) -> Vec<String> {
        let mut ids: Vec<String> = accesses
            .iter()
            .filter_map(|a| a.assume_role_external_id.clone())
            .collect();
        for e in &self.entries {
            ids.extend(e.attachment.aoc_trust.external_id.clone());
            let policies = e
                .aoc_trust_policy
                .iter()
                .chain(e.facts.role_trust_policy.known());
            for p in policies {
                for st in &p.document.statements {
                    for c in &st.conditions {
                        if c.key.eq_ignore_ascii_case("sts:ExternalId") {
                            ids.extend(c.values.iter().cloned());
                        }
                    }
                }
            }
        }
        ids
    }
}

/// Refuses, with `--facts`, a flag that describes the attachment or its documents: a replay
/// judges the attachments as they were gathered, and silently ignoring `--bucket` (or its
/// environment variable) would report on something else than the admin asked about.
/// `--attachment NAME` picks one of the bundle's attachments; credentials and endpoint flags
/// are merely unused.
pub fn refuse_attachment_flags(input: &InputArgs) -> Result<(), UsageError> {
    let a = &input.attachment_args;
    let d = &input.documents;
    let given: [(&str, Option<&str>, bool); 18] = [
        ("--region", Some("AOC_PREFLIGHT_REGION"), a.region.is_some()),
        ("--bucket", Some("AOC_PREFLIGHT_BUCKET"), a.bucket.is_some()),
        ("--path", Some("AOC_PREFLIGHT_PATH"), a.path.is_some()),
        (
            "--kms-key",
            Some("AOC_PREFLIGHT_KMS_KEY"),
            a.kms_key.is_some(),
        ),
        (
            "--role-arn",
            Some("AOC_PREFLIGHT_ROLE_ARN"),
            a.role_arn.is_some(),
        ),
        ("--trust-policy", None, a.trust_policy.is_some()),
        (
            "--external-id",
            Some("AOC_PREFLIGHT_EXTERNAL_ID"),
            a.external_id.is_some(),
        ),
        (
            "--aoc-principal",
            Some("AOC_PREFLIGHT_AOC_PRINCIPAL"),
            a.aoc_principal.is_some(),
        ),
        ("--identity-policy", None, !d.identity_policies.is_empty()),
        (
            "--permissions-boundary",
            None,
            d.permissions_boundary.is_some(),
        ),
        ("--bucket-policy", None, d.bucket_policy.is_some()),
        ("--key-policy", None, d.key_policy.is_some()),
        ("--role-trust-policy", None, d.role_trust_policy.is_some()),
        ("--bucket-account", None, d.bucket_account.is_some()),
        ("--terraform-plan", None, d.terraform_plan.is_some()),
        ("--scp", None, !d.scps.is_empty()),
        ("--rcp", None, !d.rcps.is_empty()),
        (
            "--org-management-account",
            None,
            d.org_management_account.is_some(),
        ),
    ];
    let named: Vec<String> = given
        .iter()
        .filter(|(_, _, is_given)| *is_given)
        .map(|(flag, env, _)| match env {
            Some(env) => format!("{flag} (or {env})"),
            None => flag.to_string(),
        })
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "--facts replays the attachments as they were gathered, so {} would change nothing: \
         leave {} out, or check without --facts (--attachment NAME picks one of the bundle's \
         attachments)",
        named.join(", "),
        if named.len() == 1 { "it" } else { "them" }
    )))
}
