//! Fault injection: live mode against a stub AWS on 127.0.0.1 (`support::stub_aws`) that
//! answers every operation correctly except one, which fails in one way. For every operation
//! the tool calls × each fault: no panic, no hang past `--timeout`, the checks that need that
//! operation's answer are `error` saying what went wrong and what to do (or the finding the
//! design gives, e.g. a missing bucket policy is "no policy"), the other checks unaffected,
//! the right exit code, and retries where AWS asks for them.
//!
//! One test per fault (a column of the matrix) runs its operations side by side, each against
//! its own stub server. Each column also checks its column of `docs/fault-matrix.md` against
//! what it observed; `UPDATE_FAULT_MATRIX=1 cargo test --test cli faults` rewrites the file.
//!
//! A cell where the tool misbehaves is listed in [`KNOWN_BUGS`]: its column shows the observed
//! behaviour marked as a bug, and an `#[ignore = "bug: ..."]` test below asserts the right one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::all_checks;
use crate::support::stub_aws::{
    ALIAS_ARN, KEY_ARN, Op, StubAws, StubWorld, access_denied, error, flavour,
};

/// `--timeout` of the no-answer column: the stub's delay is longer.
const SHORT_TIMEOUT: u64 = 3;
/// The stub's delay in the no-answer column.
const NO_ANSWER_DELAY: Duration = Duration::from_secs(20);
/// `--timeout` of the other columns: room for three tries with backoff.
const TIMEOUT: u64 = 15;
/// How long after its `--timeout` a run may end (process start and report, with a column's
/// runs side by side on a small machine), at most.
const MARGIN: Duration = Duration::from_secs(5);

/// The checks that are `skip` in the correct world (the key is entered as a key ARN; no
/// `--probe`); every other check passes.
/// `org.policies` is `skip` until the organization's policies are read live.
const BASELINE_SKIP: [&str; 3] = ["kms.alias", "org.policies", "probe.write"];

/// The checks that live mode cannot judge without AWS: with the endpoint refusing
/// connections, all of them are `error`.
const AWS_CHECKS: [&str; 12] = [
    "aws.credentials",
    "bucket.reachable",
    "bucket.region",
    "bucket.encryption",
    "bucket.policy",
    "bucket.public-access",
    "kms.key",
    "kms.key-policy",
    "role.exists",
    "role.s3-access",
    "role.kms-access",
    "role.trust",
];

// ---------------------------------------------------------------------------------------------
// The faults
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    /// The operation never answers within `--timeout` (the stub delays it).
    NoAnswer,
    /// HTTP 500 every time (S3 `InternalError`, KMS `KMSInternalException`, IAM
    /// `ServiceFailure`, STS `InternalFailure`).
    Http500,
    /// Throttled once (S3 503 `SlowDown`, KMS 400 `ThrottlingException`, IAM and STS 400
    /// `Throttling`), then the right answer: the retry must make the run pass.
    ThrottledOnce,
    /// Throttled every time: the tool gives up after its tries.
    ThrottledAlways,
    /// Refused: S3, IAM and STS 403 `AccessDenied`, KMS 400 `AccessDeniedException`.
    AccessDenied,
    /// A 200 whose XML or JSON body is cut off halfway.
    Truncated,
    /// The policy document in the answer is not JSON (URL-encoded, for IAM).
    PolicyNotJson,
    /// AWS says the thing does not exist (S3 404 `NoSuchBucket`, `NoSuchBucketPolicy`, ...,
    /// KMS `NotFoundException`, IAM `NoSuchEntity`): a finding, not an error.
    Absent,
}

impl Fault {
    const ALL: [Fault; 8] = [
        Fault::NoAnswer,
        Fault::Http500,
        Fault::ThrottledOnce,
        Fault::ThrottledAlways,
        Fault::AccessDenied,
        Fault::Truncated,
        Fault::PolicyNotJson,
        Fault::Absent,
    ];

    /// The column's heading in `docs/fault-matrix.md`.
    fn column(self) -> &'static str {
        match self {
            Fault::NoAnswer => "no answer",
            Fault::Http500 => "HTTP 500",
            Fault::ThrottledOnce => "throttled once",
            Fault::ThrottledAlways => "throttled always",
            Fault::AccessDenied => "access denied",
            Fault::Truncated => "truncated body",
            Fault::PolicyNotJson => "policy not JSON",
            Fault::Absent => "absent (404)",
        }
    }

    fn timeout(self) -> u64 {
        if self == Fault::NoAnswer {
            SHORT_TIMEOUT
        } else {
            TIMEOUT
        }
    }
}

/// A cell the tool gets wrong today, and what it should do.
struct KnownBug {
    op: Op,
    fault: Fault,
    what: &'static str,
}

/// The cells the tool gets wrong today. Their column shows what happens, marked as a bug;
/// the `#[ignore]`d tests at the end of this file assert what should.
const KNOWN_BUGS: &[KnownBug] = &[];

fn known_bug(op: Op, fault: Fault) -> Option<&'static KnownBug> {
    KNOWN_BUGS.iter().find(|b| b.op == op && b.fault == fault)
}

/// The world a cell runs in: the correct one, except that GetBucketLocation is only asked
/// when HeadBucket does not say the region, and ListAliases only matters when the bucket's
/// encryption names the key by an alias.
fn world_for(op: Op) -> StubWorld {
    let mut world = StubWorld::default();
    match op {
        Op::GetBucketLocation => world.head_region_header = false,
        Op::ListAliases => world.encryption_key_id = ALIAS_ARN.to_string(),
        _ => {}
    }
    world
}

/// The checks that need `op`'s answer: `error` when it cannot be had.
fn depends(op: Op, fault: Fault) -> &'static [&'static str] {
    match op {
        // Without an answer the run's time is spent waiting: the organization's reads, which
        // need to know whose account answers, run out of it too.
        Op::GetCallerIdentity if fault == Fault::NoAnswer => &["aws.credentials", "org.policies"],
        Op::GetCallerIdentity => &["aws.credentials"],
        // Without any answer, the tool does not ask the bucket's other questions; an error
        // answer still shows the bucket exists, and they are asked.
        Op::HeadBucket if fault == Fault::NoAnswer => &[
            "bucket.reachable",
            "bucket.region",
            "bucket.encryption",
            "bucket.policy",
            "bucket.public-access",
        ],
        Op::HeadBucket => &["bucket.reachable"],
        // The other bucket reads wait for the region (they go to the bucket's own region): when
        // it never comes, the overall deadline has passed for them too.
        Op::GetBucketLocation if fault == Fault::NoAnswer => &[
            "bucket.region",
            "bucket.encryption",
            "bucket.policy",
            "bucket.public-access",
        ],
        Op::GetBucketLocation => &["bucket.region"],
        Op::GetBucketEncryption => &["bucket.encryption"],
        Op::GetBucketPolicy => &["bucket.policy"],
        Op::GetPublicAccessBlock => &["bucket.public-access"],
        // The key policy is read from the key ARN DescribeKey gives.
        Op::DescribeKey => &["kms.key", "kms.key-policy"],
        // The aliases tell whether the alias the bucket's encryption names is the key.
        Op::ListAliases => &["bucket.encryption"],
        Op::GetKeyPolicy => &["kms.key-policy"],
        // A trust policy that does not parse leaves the role known.
        Op::GetRole if fault == Fault::PolicyNotJson => &["role.trust"],
        Op::GetRole => &[
            "role.exists",
            "role.s3-access",
            "role.kms-access",
            "role.trust",
        ],
        Op::ListRolePolicies
        | Op::GetRolePolicy
        | Op::ListAttachedRolePolicies
        | Op::GetPolicy
        | Op::GetPolicyVersion => &["role.s3-access", "role.kms-access"],
    }
}

/// What a cell must show.
#[derive(Debug, Clone)]
struct Expect {
    /// The checks whose status differs from the correct world's, and their status.
    changed: Vec<(&'static str, &'static str)>,
    /// Text every changed check must contain (summary, evidence or remediation).
    says: Vec<String>,
    /// Text one check must contain.
    says_in: Vec<(&'static str, &'static str)>,
    /// Every changed check says one of these.
    one_of: &'static [&'static str],
    /// How many requests for the operation the stub must receive (`None`: any, at least 1).
    tries: Option<usize>,
    exit: i32,
}

impl Expect {
    /// The checks that depend on `op` are `error`, saying `says`; exit 3.
    fn error(op: Op, fault: Fault, says: Vec<String>, tries: Option<usize>) -> Expect {
        Expect {
            changed: depends(op, fault).iter().map(|c| (*c, "error")).collect(),
            says,
            says_in: Vec::new(),
            one_of: &[],
            tries,
            exit: 3,
        }
    }
}

/// The AWS error code and HTTP status of `fault` for `op`'s service.
fn fault_code(op: Op, fault: Fault) -> (u16, &'static str, &'static str) {
    let f = flavour(op.service());
    match fault {
        Fault::Http500 => f.internal,
        Fault::ThrottledOnce | Fault::ThrottledAlways => f.throttle,
        _ => (f.denied.0, f.denied.1, "Access Denied"),
    }
}

/// Words that say an answer could not be read (any of them will do).
const UNREADABLE: &[&str] = &[
    "could not be read",
    "could not be parsed",
    "not well-formed",
    "malformed",
    "unreadable",
    "truncated",
];

/// An answer whose XML is cut, or whose policy document inside is.
const UNREADABLE_OR_POLICY: &[&str] = &[
    "could not be read",
    "could not be parsed",
    "not well-formed",
    "malformed",
    "unreadable",
    "truncated",
    "does not parse",
];

/// How the tool names `op`'s permission in its messages.
fn named(op: Op) -> String {
    op.permission()
}

/// What the cell (op, fault) must show; `None` when the fault does not apply.
fn expect(op: Op, fault: Fault) -> Option<Expect> {
    let perm = named(op);
    Some(match fault {
        Fault::NoAnswer => Expect::error(
            op,
            fault,
            vec![
                perm,
                format!("did not answer within {SHORT_TIMEOUT} s"),
                "raise --timeout".to_string(),
            ],
            None,
        ),
        Fault::Http500 | Fault::ThrottledAlways => {
            let (status, code, _) = fault_code(op, fault);
            // A HEAD answer has no body, so no code: the status says it.
            let what = if op == Op::HeadBucket {
                status.to_string()
            } else {
                code.to_string()
            };
            Expect::error(op, fault, vec![perm, what], Some(3))
        }
        Fault::ThrottledOnce => Expect {
            changed: Vec::new(),
            says: Vec::new(),
            says_in: Vec::new(),
            one_of: &[],
            tries: Some(2),
            exit: 0,
        },
        // S3 answers 403 to HeadBucket when the caller may not list the bucket: the bucket
        // exists (design: bucket.reachable warns), and the other reads go on.
        Fault::AccessDenied if op == Op::HeadBucket => Expect {
            changed: vec![("bucket.reachable", "warn")],
            says: vec!["403".to_string(), perm],
            says_in: Vec::new(),
            one_of: &[],
            tries: Some(1),
            exit: 0,
        },
        // sts:GetCallerIdentity needs no permission and ignores an explicit Deny: a refusal
        // says the credentials are not accepted, which is what aws.credentials fails on.
        // GetCallerIdentity needs no permission: refused, the credentials are the problem, and
        // the organization's reads (which need to know whose account answers) stop with it.
        Fault::AccessDenied if op == Op::GetCallerIdentity => Expect {
            changed: vec![("aws.credentials", "fail"), ("org.policies", "error")],
            says: vec!["needs no permission".to_string(), "credentials".to_string()],
            says_in: Vec::new(),
            one_of: &[],
            tries: Some(1),
            exit: 3,
        },
        Fault::AccessDenied => Expect::error(
            op,
            fault,
            vec![
                format!("the tool needs {perm}"),
                "aoc-preflight permissions".to_string(),
            ],
            Some(1),
        ),
        // HeadBucket has no body; GetBucketPolicy's body is the policy itself (next column).
        Fault::Truncated if matches!(op, Op::HeadBucket | Op::GetBucketPolicy) => return None,
        // The cut falls inside the inline or managed policy document, which IAM's XML carries
        // as text: either the XML answer or the document in it is reported unreadable.
        Fault::Truncated if matches!(op, Op::GetRolePolicy | Op::GetPolicyVersion) => Expect {
            one_of: UNREADABLE_OR_POLICY,
            ..Expect::error(op, fault, vec![], Some(1))
        },
        // The operation, and that its answer could not be read.
        Fault::Truncated => Expect {
            one_of: UNREADABLE,
            ..Expect::error(op, fault, vec![perm], Some(1))
        },
        Fault::PolicyNotJson if !op.returns_policy() => return None,
        Fault::PolicyNotJson => Expect::error(
            op,
            fault,
            vec!["does not parse".to_string(), "line 1, column".to_string()],
            Some(1),
        ),
        Fault::Absent => {
            type Said = Vec<(&'static str, &'static str)>;
            let (changed, says_in, exit): (Vec<(&str, &str)>, Said, i32) = match op {
                Op::HeadBucket => (
                    vec![
                        ("bucket.reachable", "fail"),
                        ("bucket.region", "skip"),
                        ("bucket.encryption", "skip"),
                        ("bucket.policy", "skip"),
                        ("bucket.public-access", "skip"),
                        // A grant on a bucket that does not exist proves nothing.
                        ("role.s3-access", "skip"),
                    ],
                    vec![
                        ("bucket.reachable", "There is no bucket named aspera-kms"),
                        ("bucket.policy", "does not exist"),
                    ],
                    1,
                ),
                Op::GetBucketEncryption => (
                    vec![("bucket.encryption", "warn")],
                    vec![(
                        "bucket.encryption",
                        "has no default encryption configuration",
                    )],
                    0,
                ),
                // No bucket policy: nothing in it denies AoC.
                Op::GetBucketPolicy => (Vec::new(), vec![("bucket.policy", "no bucket policy")], 0),
                Op::GetPublicAccessBlock => (
                    vec![("bucket.public-access", "warn")],
                    vec![(
                        "bucket.public-access",
                        "NoSuchPublicAccessBlockConfiguration",
                    )],
                    0,
                ),
                Op::DescribeKey => (
                    // A key that does not exist is not "the AoC key" the bucket names.
                    vec![
                        ("bucket.encryption", "skip"),
                        ("kms.key", "fail"),
                        ("kms.key-policy", "skip"),
                        ("role.kms-access", "skip"),
                    ],
                    vec![("kms.key", "NotFoundException")],
                    1,
                ),
                Op::GetRole => (
                    vec![
                        ("role.exists", "fail"),
                        ("role.s3-access", "skip"),
                        ("role.kms-access", "skip"),
                        ("role.trust", "skip"),
                    ],
                    vec![
                        ("role.exists", "There is no role"),
                        ("role.trust", "does not exist"),
                    ],
                    1,
                ),
                _ => return None,
            };
            Expect {
                changed,
                says: Vec::new(),
                says_in,
                one_of: &[],
                tries: Some(1),
                exit,
            }
        }
    })
}

/// What AWS says when `op`'s thing does not exist.
fn absent(op: Op) -> crate::support::stub_aws::Answer {
    match op {
        Op::HeadBucket => error(op, 404, "NoSuchBucket", ""),
        Op::GetBucketEncryption => error(
            op,
            404,
            "ServerSideEncryptionConfigurationNotFoundError",
            "The server side encryption configuration was not found",
        ),
        Op::GetBucketPolicy => error(
            op,
            404,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
        ),
        Op::GetPublicAccessBlock => error(
            op,
            404,
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
        ),
        Op::DescribeKey => error(
            op,
            400,
            "NotFoundException",
            &format!("Key '{KEY_ARN}' does not exist"),
        ),
        _ => error(
            op,
            404,
            "NoSuchEntity",
            "The role with name aspera-kms-access cannot be found.",
        ),
    }
}

/// Mounts `fault` on `op` in `stub`.
fn inject(stub: &StubAws, op: Op, fault: Fault) {
    match fault {
        Fault::NoAnswer => {
            stub.fail_always(op, stub.world.ok(op).template().set_delay(NO_ANSWER_DELAY))
        }
        Fault::Http500 | Fault::ThrottledAlways => {
            let (status, code, message) = fault_code(op, fault);
            stub.fail_always(op, error(op, status, code, message).template());
        }
        Fault::ThrottledOnce => {
            let (status, code, message) = fault_code(op, fault);
            stub.fail_first(op, 1, error(op, status, code, message).template());
        }
        Fault::AccessDenied => stub.fail_always(op, access_denied(op).template()),
        Fault::Truncated => stub.fail_always(op, stub.world.ok(op).truncated().template()),
        Fault::PolicyNotJson => stub.fail_always(op, stub.world.not_json_policy(op).template()),
        Fault::Absent => stub.fail_always(op, absent(op).template()),
    }
}

// ---------------------------------------------------------------------------------------------
// Running a cell
// ---------------------------------------------------------------------------------------------

/// What one run showed.
#[derive(Debug)]
struct Observed {
    code: i32,
    /// Check ID → status.
    statuses: BTreeMap<String, String>,
    /// Check ID → everything it says (its JSON).
    texts: BTreeMap<String, String>,
    /// Check ID → its one-line summary.
    summaries: BTreeMap<String, String>,
    /// Check ID → its remediation, when it has one.
    remediation: BTreeMap<String, String>,
    tries: usize,
    elapsed: Duration,
    stderr: String,
    report: Value,
}

impl Observed {
    fn from_run(run: crate::support::moto::Run, tries: usize, elapsed: Duration) -> Observed {
        let mut statuses = BTreeMap::new();
        let mut texts = BTreeMap::new();
        let mut remediation = BTreeMap::new();
        let mut summaries = BTreeMap::new();
        for c in run.report["checks"].as_array().into_iter().flatten() {
            let id = c["id"].as_str().unwrap_or("").to_string();
            statuses.insert(id.clone(), c["status"].as_str().unwrap_or("").to_string());
            texts.insert(id.clone(), c.to_string());
            summaries.insert(id.clone(), c["summary"].as_str().unwrap_or("").to_string());
            if let Some(r) = c["remediation"].as_str() {
                remediation.insert(id, r.to_string());
            }
        }
        Observed {
            code: run.code,
            statuses,
            texts,
            summaries,
            remediation,
            tries,
            elapsed,
            stderr: run.stderr,
            report: run.report,
        }
    }

    /// The checks whose status differs from the correct world's, in report order.
    fn changed(&self) -> Vec<(String, String)> {
        all_checks()
            .iter()
            .filter_map(|id| self.statuses.get(*id).map(|s| (*id, s)))
            .filter(|(id, s)| s.as_str() != baseline(id))
            .map(|(id, s)| (id.to_string(), s.clone()))
            .collect()
    }

    fn pretty(&self) -> String {
        format!(
            "exit {}, {} tries, {:.1} s\n{}\nstderr: {}",
            self.code,
            self.tries,
            self.elapsed.as_secs_f64(),
            serde_json::to_string_pretty(&self.report).unwrap_or_default(),
            self.stderr
        )
    }
}

fn baseline(id: &str) -> &'static str {
    if BASELINE_SKIP.contains(&id) {
        "skip"
    } else {
        "pass"
    }
}

/// Runs the binary against a stub with `fault` on `op`.
fn run_cell(op: Op, fault: Fault) -> Observed {
    let stub = StubAws::start(world_for(op));
    inject(&stub, op, fault);
    let timeout = fault.timeout();
    let started = Instant::now();
    let run = stub
        .cmd()
        .args(["--timeout", &timeout.to_string()])
        .guard(Duration::from_secs(timeout) + Duration::from_secs(30))
        .run();
    let elapsed = started.elapsed();
    Observed::from_run(run, stub.requests(op), elapsed)
}

/// Everything wrong with `obs` for a cell expected to show `exp`; empty when it is right.
fn problems(fault: Fault, exp: &Expect, obs: &Observed) -> Vec<String> {
    let mut out = general_problems(fault, obs);
    let mut want: BTreeMap<String, String> = all_checks()
        .iter()
        .map(|id| (id.to_string(), baseline(id).to_string()))
        .collect();
    for (id, status) in &exp.changed {
        want.insert(id.to_string(), status.to_string());
    }
    if obs.statuses != want {
        let diff: Vec<String> = want
            .iter()
            .filter(|(id, s)| obs.statuses.get(*id) != Some(s))
            .map(|(id, s)| {
                format!(
                    "{id} is {} instead of {s}",
                    obs.statuses.get(id).map_or("missing", String::as_str)
                )
            })
            .collect();
        out.push(diff.join("; "));
    }
    if obs.code != exp.exit {
        out.push(format!("exit {} instead of {}", obs.code, exp.exit));
    }
    for (id, status) in &exp.changed {
        let text = obs.texts.get(*id).map_or("", String::as_str);
        for needle in &exp.says {
            if !text.contains(needle.as_str()) {
                out.push(format!("{id} does not say `{needle}`"));
            }
        }
        // Undetermined: the remediation says what to do.
        if *status == "error" && !obs.remediation.contains_key(*id) {
            out.push(format!("{id} is error without a remediation"));
        }
    }
    if !exp.one_of.is_empty() {
        for (id, _) in &exp.changed {
            let summary = obs.summaries.get(*id).map_or("", String::as_str);
            if !exp.one_of.iter().any(|w| summary.contains(w)) {
                out.push(format!(
                    "{id} does not say that the answer could not be read ({})",
                    exp.one_of.join(" / ")
                ));
            }
        }
    }
    for (id, needle) in &exp.says_in {
        let text = obs.texts.get(*id).map_or("", String::as_str);
        if !text.contains(needle) {
            out.push(format!("{id} does not say `{needle}`"));
        }
    }
    match exp.tries {
        Some(n) if obs.tries != n => out.push(format!("{} tries instead of {n}", obs.tries)),
        None if obs.tries == 0 => out.push("the operation was never called".to_string()),
        _ => {}
    }
    out
}

/// What every cell must show, bug or not: no panic, no hang, a report.
fn general_problems(fault: Fault, obs: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    if obs.stderr.contains("panicked") {
        out.push("panicked".to_string());
    }
    let limit = Duration::from_secs(fault.timeout()) + MARGIN;
    if obs.elapsed > limit {
        out.push(format!(
            "took {:.1} s (limit {} s)",
            obs.elapsed.as_secs_f64(),
            limit.as_secs()
        ));
    }
    if obs.statuses.len() != all_checks().len() {
        out.push(format!("{} checks in the report", obs.statuses.len()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The matrix document
// ---------------------------------------------------------------------------------------------

/// The matrix cell for what `obs` showed.
fn describe(op: Op, fault: Fault, obs: &Observed) -> String {
    let changed = obs.changed();
    let outcome = if changed.is_empty() {
        if obs.tries > 1 {
            "retried → pass".to_string()
        } else {
            "pass".to_string()
        }
    } else {
        let what: Vec<String> = changed.iter().map(|(id, s)| format!("{id} {s}")).collect();
        what.join(", ")
    };
    // What the operation's own check says when it changed, else the first changed check; with
    // none changed, nothing (a retry that passed), or for a finding what the operation's own
    // check says (a missing bucket policy: "no bucket policy").
    let own = depends(op, fault).first().copied();
    let about = match changed.first() {
        Some((first, _)) => Some(
            own.filter(|o| changed.iter().any(|(id, _)| id == o))
                .unwrap_or(first.as_str()),
        ),
        None if fault == Fault::Absent => own,
        None => None,
    };
    let says = about
        .and_then(|id| obs.summaries.get(id))
        .map(|t| gist(op, t))
        .unwrap_or_default();
    let mut cell = outcome;
    if !says.is_empty() {
        cell.push_str(&format!(": {says}"));
    }
    // How many tries fit before the deadline depends on the machine's speed.
    if fault != Fault::NoAnswer {
        match obs.tries {
            1 => cell.push_str(" · 1 try"),
            n => cell.push_str(&format!(" · {n} tries")),
        }
    }
    cell.push_str(&format!(" · exit {}", obs.code));
    cell
}

/// The gist of a check's summary: which permission it names and why, or its first words.
fn gist(op: Op, summary: &str) -> String {
    let perm = named(op);
    if summary.contains(&format!("the tool needs {perm}")) {
        format!("“needs {perm}”")
    } else if summary.contains("did not answer within") {
        "“did not answer within 3 s … raise --timeout”".to_string()
    } else if summary.contains("does not parse") {
        "“… as returned by AWS does not parse: line 1, column …”".to_string()
    } else if let Some(i) = summary.find(" failed: ") {
        let code: String = summary[i + 9..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect();
        format!("“failed: {}”", code.trim())
    } else if summary.starts_with("Could not be determined") {
        let words: Vec<&str> = summary.split_whitespace().take(12).collect();
        format!("“{} …”", words.join(" "))
    } else {
        // A finding: its summary, without the long ARNs.
        let short: Vec<&str> = summary
            .split_whitespace()
            .filter(|w| !w.contains("arn:"))
            .take(12)
            .collect();
        let mut text = short.join(" ");
        if summary
            .split_whitespace()
            .filter(|w| !w.contains("arn:"))
            .count()
            > 12
        {
            text.push_str(" …");
        }
        format!("“{text}”")
    }
}

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/fault-matrix.md")
}

/// One test at a time reads and writes the document.
static DOC: Mutex<()> = Mutex::new(());

const DOC_HEAD: &str = "\
# Fault matrix

What `aoc-preflight check` does in live mode when one AWS operation fails, for every
operation it calls × each fault. Generated by `tests/cli/faults.rs`, which runs the binary
against a stub AWS on 127.0.0.1 (`tests/cli/support/stub_aws.rs`: S3 restXml, KMS
awsJson1_1, IAM and STS awsQuery, with the bodies of the AWS API references) answering
everything correctly except the one operation. Each cell is what the run showed: the checks
whose status changed from the correct world's (where every check passes but `kms.alias` and
`probe.write`, skipped), what the first of them says, how many requests the operation got, and
the exit code. Every cell also asserts: no panic, the run ends within `--timeout` + 5 s
(`--timeout 3` in the no-answer column, 15 elsewhere), and every `error` has a remediation.

Regenerate: `UPDATE_FAULT_MATRIX=1 cargo test --test cli faults`. Without it, the tests fail
when this file no longer says what they observe.

- **no answer**: the stub holds the answer 20 s; the tool retries each attempt after
  `--timeout`/3 and gives up at `--timeout`.
- **HTTP 500**: S3 `InternalError`, KMS `KMSInternalException`, IAM `ServiceFailure`, STS
  `InternalFailure`, every time.
- **throttled once** / **always**: S3 503 `SlowDown`, KMS 400 `ThrottlingException`, IAM and
  STS 400 `Throttling`; once then the right answer, or every time.
- **access denied**: S3, IAM and STS 403 `AccessDenied`; KMS 400 `AccessDeniedException`.
- **truncated body**: a 200 whose XML or JSON is cut off halfway.
- **policy not JSON**: the policy document in the answer is cut off (URL-encoded, for IAM).
- **absent (404)**: the thing does not exist: S3 `NoSuchBucket`, `NoSuchBucketPolicy`,
  `ServerSideEncryptionConfigurationNotFoundError`, `NoSuchPublicAccessBlockConfiguration`;
  KMS `NotFoundException`; IAM `NoSuchEntity`. A finding, not an error.
- **—**: the fault does not apply (HeadBucket has no body; GetBucketPolicy's body is the
  policy itself, covered by the next column; only five operations return a policy).
- **BUG**: the tool does not do what it should; `KNOWN_BUGS` in `tests/cli/faults.rs` says
  what it should do, and an ignored test asserts it.
";

/// Reads the document's table: (operation, column) → cell, and the refused line.
fn parse_doc(text: &str) -> (BTreeMap<(String, String), String>, Option<String>) {
    let mut cells = BTreeMap::new();
    let mut header: Vec<String> = Vec::new();
    let mut refused = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Connection refused (whole endpoint): ") {
            refused = Some(rest.to_string());
        }
        if !line.starts_with('|') {
            continue;
        }
        let parts: Vec<String> = line
            .trim_matches('|')
            .split(" | ")
            .map(|s| s.trim().to_string())
            .collect();
        if parts.first().map(String::as_str) == Some("operation") {
            header = parts;
        } else if parts.first().is_some_and(|p| p.contains(':')) && !header.is_empty() {
            let op = parts[0].trim_matches('`').to_string();
            for (col, cell) in header.iter().zip(parts.iter()).skip(1) {
                cells.insert((op.clone(), col.clone()), cell.clone());
            }
        }
    }
    (cells, refused)
}

fn render_doc(cells: &BTreeMap<(String, String), String>, refused: Option<&str>) -> String {
    let mut out = String::from(DOC_HEAD);
    out.push_str("\n## Operation × fault\n\n| operation |");
    for f in Fault::ALL {
        out.push_str(&format!(" {} |", f.column()));
    }
    out.push_str("\n|---|");
    for _ in Fault::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for op in Op::ALL {
        out.push_str(&format!("| `{}` |", op.name()));
        for f in Fault::ALL {
            let cell = cells
                .get(&(op.name(), f.column().to_string()))
                .map_or("(not run)", String::as_str);
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\nConnection refused (whole endpoint): {}\n",
        refused.unwrap_or("(not run)")
    ));
    out.push_str("\n## Known bugs\n\nThe cells marked **BUG**, and what the tool should do:\n\n");
    let mut seen: Vec<&str> = Vec::new();
    for bug in KNOWN_BUGS {
        if seen.contains(&bug.what) {
            continue;
        }
        seen.push(bug.what);
        let cells: Vec<String> = KNOWN_BUGS
            .iter()
            .filter(|b| b.what == bug.what)
            .map(|b| format!("{} × {}", b.op.operation(), b.fault.column()))
            .collect();
        let what: Vec<&str> = bug.what.split_whitespace().collect();
        out.push_str(&format!("- {}: {}.\n", cells.join(", "), what.join(" ")));
    }
    out.push_str("\n## Which checks need which operation\n\n| operation | checks |\n|---|---|\n");
    for op in Op::ALL {
        let checks: Vec<String> = depends(op, Fault::Http500)
            .iter()
            .map(|c| format!("`{c}`"))
            .collect();
        out.push_str(&format!("| `{}` | {} |\n", op.name(), checks.join(", ")));
    }
    out.push_str(
        "\nWith no answer at all from HeadBucket the tool asks the bucket nothing else; an \
         error answer still shows that the bucket exists. GetBucketLocation is asked only when \
         HeadBucket does not send `x-amz-bucket-region`; ListAliases matters only when the \
         bucket's default encryption names the key by an alias (the stub's world for those two \
         rows is set up that way). A trust policy that does not parse leaves `role.exists` \
         known and makes only `role.trust` `error`.\n",
    );
    out
}

fn updating() -> bool {
    std::env::var_os("UPDATE_FAULT_MATRIX").is_some_and(|v| v == "1")
}

/// Writes (`UPDATE_FAULT_MATRIX=1`) or checks the cells of one column, and the refused line.
fn sync_doc(column: Option<(Fault, BTreeMap<Op, String>)>, refused: Option<String>) {
    let _lock = DOC.lock().unwrap_or_else(|e| e.into_inner());
    let path = doc_path();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (mut cells, mut refused_line) = parse_doc(&text);
    let mut stale = Vec::new();
    if let Some((fault, observed)) = &column {
        for op in Op::ALL {
            let key = (op.name(), fault.column().to_string());
            let now = observed
                .get(&op)
                .cloned()
                .unwrap_or_else(|| "—".to_string());
            if cells.get(&key) != Some(&now) {
                stale.push(format!(
                    "{} × {}: the document says {:?}, the run showed {now:?}",
                    op.name(),
                    fault.column(),
                    cells.get(&key).map_or("nothing", String::as_str)
                ));
                cells.insert(key, now);
            }
        }
    }
    if let Some(now) = refused {
        if refused_line.as_deref() != Some(now.as_str()) {
            stale.push(format!(
                "connection refused: the document says {refused_line:?}, the run showed {now:?}"
            ));
        }
        refused_line = Some(now);
    }
    if updating() {
        let rendered = render_doc(&cells, refused_line.as_deref());
        if rendered != text {
            std::fs::write(&path, rendered).expect("write docs/fault-matrix.md");
        }
    } else {
        assert!(
            stale.is_empty(),
            "docs/fault-matrix.md is out of date; run `UPDATE_FAULT_MATRIX=1 cargo test --test cli \
             faults` and commit it:\n{}",
            stale.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The columns
// ---------------------------------------------------------------------------------------------

/// Runs every operation of a column side by side, asserts each cell, and syncs the column of
/// the document.
fn column(fault: Fault) {
    let cells: Vec<(Op, Expect)> = Op::ALL
        .iter()
        .filter_map(|op| expect(*op, fault).map(|e| (*op, e)))
        .collect();
    assert!(!cells.is_empty(), "{fault:?} applies to no operation");
    let observed: Vec<(Op, Expect, Observed)> = std::thread::scope(|s| {
        let handles: Vec<_> = cells
            .into_iter()
            .map(|(op, exp)| s.spawn(move || (op, exp, run_cell(op, fault))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a cell's thread panicked"))
            .collect()
    });

    let mut failures = Vec::new();
    let mut doc = BTreeMap::new();
    for (op, exp, obs) in &observed {
        if std::env::var_os("FAULTS_VERBOSE").is_some() {
            eprintln!(
                "== {} × {}: {}",
                op.name(),
                fault.column(),
                describe(*op, fault, obs)
            );
            for (id, _) in obs.changed() {
                eprintln!("   {id}: {}", obs.summaries[&id]);
            }
        }
        let wrong = problems(fault, exp, obs);
        let mut cell = describe(*op, fault, obs);
        match known_bug(*op, fault) {
            Some(bug) => {
                let general = general_problems(fault, obs);
                if !general.is_empty() {
                    failures.push(format!(
                        "{} × {}: {}\n{}",
                        op.name(),
                        fault.column(),
                        general.join("; "),
                        obs.pretty()
                    ));
                }
                if wrong.is_empty() {
                    failures.push(format!(
                        "{} × {} is fixed ({}): remove it from KNOWN_BUGS and un-ignore its test",
                        op.name(),
                        fault.column(),
                        bug.what
                    ));
                }
                cell = format!("**BUG** {cell}");
            }
            None if !wrong.is_empty() => failures.push(format!(
                "{} × {}: {}\n{}",
                op.name(),
                fault.column(),
                wrong.join("; "),
                obs.pretty()
            )),
            None => {}
        }
        doc.insert(*op, cell);
    }
    assert!(
        failures.is_empty(),
        "{} cell(s) wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    sync_doc(Some((fault, doc)), None);
}

#[test]
fn all_good_stub_passes_every_check() {
    for world in [
        world_for(Op::HeadBucket),
        world_for(Op::GetBucketLocation),
        world_for(Op::ListAliases),
    ] {
        let stub = StubAws::start(world.clone());
        let run = stub.cmd().args(["--timeout", "15"]).run();
        let obs = Observed::from_run(run, 0, Duration::ZERO);
        assert!(obs.changed().is_empty(), "{world:?}\n{}", obs.pretty());
        assert_eq!(obs.code, 0, "{}", obs.pretty());
        // Every operation was asked exactly once (GetBucketLocation only without the header).
        for op in Op::ALL {
            let want = usize::from(op != Op::GetBucketLocation || !world.head_region_header);
            assert_eq!(stub.requests(op), want, "{} in {world:?}", op.name());
        }
    }
}

#[test]
fn no_answer() {
    column(Fault::NoAnswer);
}

#[test]
fn http_500() {
    column(Fault::Http500);
}

#[test]
fn throttled_once_is_retried_and_passes() {
    column(Fault::ThrottledOnce);
}

#[test]
fn throttled_always_gives_up() {
    column(Fault::ThrottledAlways);
}

#[test]
fn access_denied_names_the_permission() {
    column(Fault::AccessDenied);
}

#[test]
fn truncated_body() {
    column(Fault::Truncated);
}

#[test]
fn policy_not_json() {
    column(Fault::PolicyNotJson);
}

#[test]
fn absent_is_a_finding() {
    column(Fault::Absent);
}

/// Nothing listens on the endpoint: every check that needs AWS is `error`, saying the call
/// could not be sent and to check the endpoint.
#[test]
fn connection_refused() {
    // A port nothing listens on, and that nobody else can take meanwhile: bound, never
    // listened on. Connections to it are refused.
    let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("bound address").port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let run = crate::support::moto::LiveCmd::new(&endpoint)
        .args(crate::support::stub_aws::attachment_args())
        .args(["--timeout", &TIMEOUT.to_string()])
        .guard(Duration::from_secs(TIMEOUT + 30))
        .run();
    let obs = Observed::from_run(run, 0, started.elapsed());
    assert!(!obs.stderr.contains("panicked"), "{}", obs.pretty());
    assert!(
        obs.elapsed < Duration::from_secs(TIMEOUT) + MARGIN,
        "{}",
        obs.pretty()
    );
    let errors: Vec<&str> = obs
        .statuses
        .iter()
        .filter(|(_, s)| s.as_str() == "error")
        .map(|(id, _)| id.as_str())
        .collect();
    let mut want = AWS_CHECKS.to_vec();
    // The organization's policies are read too: unreachable, they are not determined either.
    want.push("org.policies");
    want.sort();
    assert_eq!(errors, want, "{}", obs.pretty());
    assert_eq!(obs.code, 3, "{}", obs.pretty());
    for id in AWS_CHECKS {
        let text = &obs.texts[id];
        assert!(
            text.contains("could not be sent") && text.contains("--endpoint-url"),
            "{id}: {text}"
        );
        assert!(obs.remediation.contains_key(id), "{id} has no remediation");
    }
    drop(socket);
    let cell = format!(
        "{} checks error: “could not be sent … check the credentials, the network and \
         --endpoint-url” · exit {}",
        errors.len(),
        obs.code
    );
    sync_doc(None, Some(cell));
}

/// The document's fixed parts (introduction, headings, dependencies) are what the code
/// renders.
#[test]
fn fault_matrix_doc_is_generated() {
    let _lock = DOC.lock().unwrap_or_else(|e| e.into_inner());
    let text = std::fs::read_to_string(doc_path()).unwrap_or_default();
    let (cells, refused) = parse_doc(&text);
    if updating() {
        return;
    }
    assert_eq!(
        text,
        render_doc(&cells, refused.as_deref()),
        "docs/fault-matrix.md is not what the tests render; run `UPDATE_FAULT_MATRIX=1 cargo \
         test --test cli faults`"
    );
}
