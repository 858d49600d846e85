//! Where in the user's files each finding is, decided once for every check rather than in
//! each: a finding that names statements (its evidence or its values say "statement 1 of
//! FILE", the way [`super::policy_help::describe`] writes it) points at them; else the
//! statements its fix (or, when it has none, its check's fix) changes in the file that would
//! receive it; else that file as a whole (a missing grant is added there). What none of these
//! places is left without a location here;
//! the command points it at the attachment's table in the config file ([`config_entry`]).
//!
//! Only files have places: offline a policy given as a file is labelled with its path (the
//! convention [`super::policy_help::PolicyHome`] reads too), and AoC's trust policy always is
//! read from one; policies from a Terraform plan (labelled by resource address, ARN or inline
//! name) and live policies from AWS have none. Pure.

use std::path::Path;

use serde_json::Value;

use crate::model::facts::{Fact, Mode};
use crate::model::gate::SuppressedFinding;
use crate::model::report::CheckResult;
use crate::model::verdict::{Finding, FixDocument, Location, Status};
use crate::policy::{NamedPolicy, Statement};

use super::Input;
use super::policy_help::{PolicyHome, describe};

/// Gives each finding that needs attention (fail, warn, could not be determined) the places
/// in the user's policy files it is about, unless its check already gave it some.
pub fn locate(input: &Input<'_>, findings: &mut [Finding]) {
    let files = policy_files(input);
    if files.is_empty() {
        return;
    }
    let named: Vec<Named<'_>> = files
        .iter()
        .flat_map(|(_, p)| {
            p.document.statements.iter().map(move |st| Named {
                text: describe(&p.label, st.index, st.sid.as_deref()),
                policy: p,
                statement: st,
            })
        })
        .collect();
    // A check often proposes its fix once, on one of its findings; it is the fix of all.
    let check_fixes: Vec<FixDocument> = findings
        .iter()
        .filter_map(|f| f.fix_document().cloned())
        .collect();
    for finding in findings.iter_mut() {
        if !needs_attention(finding.status) || !finding.locations.is_empty() {
            continue;
        }
        let mut places = named_in(finding, &named);
        let fixes = match finding.fix_document() {
            Some(own) => vec![own.clone()],
            None => check_fixes.clone(),
        };
        for fix in &fixes {
            if places.is_empty() {
                places = fixed_in(fix, &files);
            }
        }
        for place in places {
            if !finding.locations.contains(&place) {
                finding.locations.push(place);
            }
        }
    }
}

/// Points every finding that needs attention and has no place yet, suppressed or not, at the
/// attachment's entry in the config file.
pub fn config_entry(
    results: &mut [CheckResult],
    suppressed: &mut [SuppressedFinding],
    entry: &Location,
) {
    let unplaced = results
        .iter_mut()
        .flat_map(|c| c.findings.iter_mut())
        .filter(|f| needs_attention(f.status))
        .map(|f| &mut f.locations)
        .chain(suppressed.iter_mut().map(|s| &mut s.locations));
    for places in unplaced {
        if places.is_empty() {
            places.push(entry.clone());
        }
    }
}

/// Makes the paths of places under `base` (the directory the tool runs in: the repository, in
/// CI) relative to it, as SARIF consumers resolve them; a config given by an absolute path
/// must still point into the repository.
pub fn relative_to(base: &Path, results: &mut [CheckResult], suppressed: &mut [SuppressedFinding]) {
    let places = results
        .iter_mut()
        .flat_map(|c| c.findings.iter_mut())
        .flat_map(|f| f.locations.iter_mut())
        .chain(suppressed.iter_mut().flat_map(|s| s.locations.iter_mut()));
    for place in places {
        let path = Path::new(&place.file);
        if path.is_absolute()
            && let Ok(inside) = path.strip_prefix(base)
        {
            place.file = inside.display().to_string();
        }
    }
}

fn needs_attention(status: Status) -> bool {
    matches!(status, Status::Fail | Status::Warn | Status::Error)
}

/// The layer a policy file stands for, as fixes name it in `applies_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Identity,
    Boundary,
    Bucket,
    Key,
    Trust,
    AocTrust,
}

/// The policies read from files, with the layer each stands for.
fn policy_files<'a>(input: &Input<'a>) -> Vec<(Layer, &'a NamedPolicy)> {
    let facts = input.facts;
    let mut out: Vec<(Layer, &NamedPolicy)> = Vec::new();
    if facts.mode == Mode::Offline {
        if let Fact::Known(list) = &facts.identity_policies {
            out.extend(list.iter().map(|p| (Layer::Identity, p)));
        }
        if let Fact::Known(Some(p)) = &facts.permissions_boundary {
            out.push((Layer::Boundary, p));
        }
        if let Fact::Known(Some(p)) = &facts.bucket_policy {
            out.push((Layer::Bucket, p));
        }
        if let Fact::Known(p) = &facts.key_policy {
            out.push((Layer::Key, p));
        }
        if let Fact::Known(p) = &facts.role_trust_policy {
            out.push((Layer::Trust, p));
        }
    }
    out.retain(|(_, p)| is_file_label(&p.label));
    if let Some(p) = &input.attachment.aoc_trust.policy {
        out.push((Layer::AocTrust, p));
    }
    out
}

/// Whether an offline policy's label is the path of the file it was read from, rather than
/// the name a Terraform plan gives it (`ADDRESS (terraform plan)`, `inline policy NAME`,
/// `managed policy ARN`, `permissions boundary ARN`).
fn is_file_label(label: &str) -> bool {
    matches!(PolicyHome::of(label), PolicyHome::File(_)) && !label.ends_with(" (terraform plan)")
}

/// A statement of a policy file, with the words evidence names it by.
struct Named<'a> {
    text: String,
    policy: &'a NamedPolicy,
    statement: &'a Statement,
}

/// The statements the finding's evidence and values name, in the order they are named. Where
/// one name is part of a longer one ("statement 1 of a.json" in "statement 1 of
/// a.json.orig"), the longer one is meant.
fn named_in(finding: &Finding, named: &[Named<'_>]) -> Vec<Location> {
    let texts = finding
        .evidence
        .iter()
        .chain(finding.vars.iter().map(|(_, v)| v));
    let mut out = Vec::new();
    for text in texts {
        if !text.contains("statement ") {
            continue;
        }
        // (start, end, which) of every mention in this text.
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        for (which, n) in named.iter().enumerate() {
            let mut from = 0;
            while let Some(i) = text.get(from..).and_then(|rest| rest.find(&n.text)) {
                let start = from + i;
                hits.push((start, start + n.text.len(), which));
                from = start + n.text.len();
            }
        }
        let longest: Vec<(usize, usize, usize)> = hits
            .iter()
            .filter(|(s, e, _)| {
                !hits
                    .iter()
                    .any(|(s2, e2, _)| s2 <= s && e <= e2 && (e2 - s2) > (e - s))
            })
            .copied()
            .collect();
        let mut ordered = longest;
        ordered.sort();
        for (_, _, which) in ordered {
            let n = &named[which];
            let place = statement_location(n.policy, n.statement);
            if !out.contains(&place) {
                out.push(place);
            }
        }
    }
    out
}

/// Where a fix goes, when that is one of the policy files: the statements it
/// changes or removes there, else the file (what it adds goes in).
fn fixed_in(fix: &FixDocument, files: &[(Layer, &NamedPolicy)]) -> Vec<Location> {
    let layer = match fix.applies_to {
        "trust-policy" => Some(Layer::Trust),
        "key-policy" => Some(Layer::Key),
        "bucket-policy" => Some(Layer::Bucket),
        _ => None,
    };
    let target = files.iter().find(|(role, p)| match &fix.file {
        Some(file) => *role != Layer::AocTrust && p.label == *file,
        None => Some(*role) == layer,
    });
    let Some((_, policy)) = target else {
        return Vec::new();
    };
    let proposed: Vec<&Value> = match fix.document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let changed: Vec<Location> = policy
        .document
        .statements
        .iter()
        .filter(|st| !proposed.contains(&&crate::policy::build::statement_json(st)))
        .map(|st| statement_location(policy, st))
        .collect();
    if changed.is_empty() {
        vec![Location {
            file: policy.label.clone(),
            line: 1,
            column: 1,
            anchor: "document".to_string(),
        }]
    } else {
        changed
    }
}

/// A statement's place in its file, and the words that name it wherever it moves.
fn statement_location(policy: &NamedPolicy, st: &Statement) -> Location {
    let (line, column) = st.position.map_or((1, 1), |p| (p.line, p.column));
    Location {
        file: policy.label.clone(),
        line,
        column,
        anchor: statement_anchor(st),
    }
}

/// `statement Sid `X``, or for a statement without a Sid a hash of what it says (not of its
/// place: inserting a statement above it must not change it).
pub fn statement_anchor(st: &Statement) -> String {
    match st.sid.as_deref() {
        Some(sid) if !sid.is_empty() => format!("statement Sid `{sid}`"),
        _ => {
            let text = crate::policy::build::statement_json(st).to_string();
            // FNV-1a, 64 bits: stable across runs, platforms and Rust versions.
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for b in text.bytes() {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            format!("statement {hash:016x}")
        }
    }
}
