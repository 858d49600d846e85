//! Support bundles: everything a live run gathered, saved with `check --save-facts FILE` and
//! replayed offline with `check --facts FILE`, which judges the same facts and so gives the
//! same report. With `--redact` the bundle is redacted like every other output.

use std::path::Path;

use serde::{Deserialize, Serialize};

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
