//! What a check concludes, as data: a status, findings with their evidence, and the fix as
//! typed steps (a note, a whole document for one layer, an example, a diff, a command) that
//! every report sink renders its own way.

use serde::{Deserialize, Serialize};

use super::facts::{Fact, FailureKind};

/// A check's status (docs/contract.md, "Statuses and exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }

    /// The most serious of some statuses, or `None` for none: each caller says what "nothing"
    /// means where it folds (a check with no finding, a report with no check).
    pub fn most_serious(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
        statuses.into_iter().max_by_key(|s| s.severity())
    }

    /// Which status a check with several findings takes: the most serious one.
    pub fn severity(self) -> u8 {
        match self {
            Status::Skip => 0,
            Status::Pass => 1,
            Status::Warn => 2,
            Status::Error => 3,
            Status::Fail => 4,
        }
    }
}

/// One thing a check found. `reason` keys the text in the check's TOML file; `vars` fill
/// its `{placeholders}`; `evidence` says what in which document led to it; `fix` is a
/// computed remedy as typed steps (a whole document for one layer, the command that applies
/// it, notes), which every report sink renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub status: Status,
    pub reason: &'static str,
    pub vars: Vec<(&'static str, String)>,
    pub evidence: Vec<String>,
    pub fix: Vec<FixStep>,
    /// Why a fact this finding needed was not obtained, when that is what it reports: the
    /// report collapses failures of the tool's own access (network, credentials, its read
    /// permissions) into one cause.
    pub failure: Option<FailureKind>,
    /// Where to look in the user's files, most relevant first: the statements at fault, else
    /// the file a fix would change, else the attachment's entry in the config file. Empty
    /// when nothing the user wrote holds the problem, or the tool does not know where it is.
    pub locations: Vec<Location>,
}

/// A place in a file the user wrote that a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The path as the user gave it (a policy file), or as the config file names it.
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// What the place is, in words that do not change when lines move: `statement Sid
    /// \`X\``, `statement <hash of its content>` for one without a Sid, `document`, or
    /// `attachment \`NAME\``. What SARIF fingerprints are computed from, not the line.
    pub anchor: String,
}

/// A policy document a fix proposes, and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixDocument {
    /// `identity-policy` (an inline policy of the role, named by `policy_name`: new, or an
    /// existing one given whole), `managed-policy-version` (the whole new default version of
    /// the customer-managed policy `policy_arn`), `policy-file` (the whole new content of the
    /// file `file`, offline), `key-policy` (the whole key policy, merged), `trust-policy` (the
    /// role's whole trust policy), `bucket-policy` (the whole bucket policy, merged) or
    /// `org-policy` (the whole SCP or RCP whose ID is `policy_name`).
    pub applies_to: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub document: serde_json::Value,
    /// The document this one replaces, when it changes one that exists: what lets fixes of
    /// several checks for the same document be merged (`checks::fix::merge_across_checks`).
    #[serde(skip)]
    pub original: Option<serde_json::Value>,
}

impl FixDocument {
    /// A whole document for a layer AWS replaces whole (key, bucket or trust policy).
    pub fn whole(applies_to: &'static str, document: serde_json::Value) -> Self {
        FixDocument {
            applies_to,
            policy_name: None,
            policy_arn: None,
            file: None,
            document,
            original: None,
        }
    }

    /// The same, recording the document it replaces.
    pub fn replacing(mut self, original: serde_json::Value) -> Self {
        self.original = Some(original);
        self
    }

    pub fn inline(name: &str, document: serde_json::Value) -> Self {
        FixDocument {
            policy_name: Some(name.to_string()),
            ..FixDocument::whole("identity-policy", document)
        }
    }

    pub fn managed_version(arn: &str, document: serde_json::Value) -> Self {
        FixDocument {
            policy_arn: Some(arn.to_string()),
            ..FixDocument::whole("managed-policy-version", document)
        }
    }

    /// The whole new content of an AWS Organizations policy (SCP or RCP), by its ID.
    pub fn org_policy(policy_id: &str, document: serde_json::Value) -> Self {
        FixDocument {
            policy_name: Some(policy_id.to_string()),
            ..FixDocument::whole("org-policy", document)
        }
    }

    pub fn file(path: &str, document: serde_json::Value) -> Self {
        FixDocument {
            file: Some(path.to_string()),
            ..FixDocument::whole("policy-file", document)
        }
    }
}

impl Finding {
    pub fn new(status: Status, reason: &'static str) -> Self {
        Finding {
            status,
            reason,
            vars: Vec::new(),
            evidence: Vec::new(),
            fix: Vec::new(),
            failure: None,
            locations: Vec::new(),
        }
    }

    /// Points the finding at a place in the user's files (after those it already has).
    pub fn at(mut self, location: Location) -> Self {
        if !self.locations.contains(&location) {
            self.locations.push(location);
        }
        self
    }

    /// The kind of failure that kept a fact from being known.
    pub fn failure(mut self, kind: FailureKind) -> Self {
        self.failure = Some(kind);
        self
    }

    pub fn pass(reason: &'static str) -> Self {
        Finding::new(Status::Pass, reason)
    }

    pub fn warn(reason: &'static str) -> Self {
        Finding::new(Status::Warn, reason)
    }

    pub fn fail(reason: &'static str) -> Self {
        Finding::new(Status::Fail, reason)
    }

    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.vars.push((name, value.into()));
        self
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn evidence_lines(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(lines);
        self
    }

    /// The document the fix proposes, for tools that apply it (`fixes` in the JSON report).
    pub fn fix_document(&self) -> Option<&FixDocument> {
        self.fix.iter().find_map(|step| match step {
            FixStep::Document { document, .. } => Some(document),
            _ => None,
        })
    }

    /// The fix as plain text (what the text report shows).
    pub fn fix_text(&self) -> Option<String> {
        (!self.fix.is_empty()).then(|| steps_text(&self.fix))
    }

    pub fn fix(mut self, steps: Vec<FixStep>) -> Self {
        self.fix = steps;
        self
    }

    /// `skip` because a value the check needs is malformed or missing.
    pub fn skip_needs(what: &str) -> Self {
        Finding::new(Status::Skip, "needs-value").var("value", what)
    }

    /// `skip` or `error` for a fact that is not known, with the fact's own explanation.
    pub fn from_missing_fact<T>(fact: &Fact<T>) -> Option<Self> {
        match fact {
            Fact::Known(_) => None,
            Fact::Unavailable(why) => {
                Some(Finding::new(Status::Skip, "fact-unavailable").var("why", why.clone()))
            }
            Fact::Failed(failure) => Some(
                Finding::new(Status::Error, "fact-failed")
                    .var("why", failure.message.clone())
                    .failure(failure.kind),
            ),
        }
    }
}

/// One step of a fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FixStep {
    /// A sentence or two to read.
    Note { text: String },
    /// A whole document to put on a layer (`fixes` in the JSON report lists these).
    Document {
        /// What the document is and where it goes, e.g. "The whole inline policy aoc-s3".
        caption: String,
        /// The name of the file the following command reads it from.
        file_name: String,
        #[serde(flatten)]
        document: FixDocument,
    },
    /// A document to show, not to apply as it is (it holds a placeholder the tool cannot
    /// fill).
    Example {
        caption: String,
        document: serde_json::Value,
    },
    /// Changed lines between the document now and the one proposed (`-`/`+`).
    Diff { caption: String, diff: String },
    /// A command to run, with the sentence that introduces it.
    Command { caption: String, command: String },
}

impl FixStep {
    pub fn note(text: impl Into<String>) -> Self {
        FixStep::Note { text: text.into() }
    }

    pub fn command(caption: impl Into<String>, command: impl Into<String>) -> Self {
        FixStep::Command {
            caption: caption.into(),
            command: command.into(),
        }
    }

    pub fn document(
        caption: impl Into<String>,
        file_name: impl Into<String>,
        document: FixDocument,
    ) -> Self {
        FixStep::Document {
            caption: caption.into(),
            file_name: file_name.into(),
            document,
        }
    }

    /// The step as plain text, the form the text, JSON `remediation`, JUnit and SARIF sinks
    /// show.
    pub fn to_text(&self) -> String {
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        match self {
            FixStep::Note { text } => text.clone(),
            FixStep::Document {
                caption,
                file_name,
                document,
            } => format!("{caption} ({file_name}):\n{}", pretty(&document.document)),
            FixStep::Example { caption, document } => format!("{caption}:\n{}", pretty(document)),
            FixStep::Diff { caption, diff } => format!("{caption}:\n{}", diff.trim_end()),
            FixStep::Command { caption, command } => format!("{caption}:\n  {command}"),
        }
    }
}

/// Steps as one text, a blank line between them.
pub fn steps_text(steps: &[FixStep]) -> String {
    steps
        .iter()
        .map(FixStep::to_text)
        .collect::<Vec<_>>()
        .join("\n\n")
}
