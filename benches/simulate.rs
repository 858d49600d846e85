//! Throughput of the policy engine behind `simulate` and the checks, in one process (issue 7:
//! at least 100,000 decisions per second).
//!
//!     CARGO_TARGET_DIR=target/bench nice -n 19 cargo bench --bench simulate
//!
//! Two workloads of 10,000 requests each, policies parsed once up front (as a long-running
//! process or a batch mode would):
//! - `corpus`: the 217 cases of tests/fixtures/simulate/cases.json, cycled (identity policies,
//!   boundaries, bucket and key policies, conditions, cross-account); every decision is
//!   compared with the case's expected one, so the bench measures correct answers;
//! - `seed`: the IBM sample attachment (examples/seed): the role's two policies with the
//!   bucket policy or the key policy, the eight S3 actions on objects under many paths and the
//!   bucket, and the KMS actions through S3 — what the checks ask.
//!
//! Also timed: the corpus with the policies parsed again for every decision (the work the
//! `simulate` command does per process, less process start and file reads).
//!
//! Prints a table, then one JSON line (read by bench/bench.py). Plain `std::time::Instant`;
//! the median of several rounds.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use aoc_preflight::policy::{
    Context, Decision, NamedPolicy, PolicySet, Request, evaluate, parse_policy,
};
use serde_json::Value;

const REQUESTS: usize = 10_000;
const ROUNDS: usize = 9;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> NamedPolicy {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let document =
        parse_policy(&text).unwrap_or_else(|e| panic!("parse {}: {}", path.display(), e.message));
    NamedPolicy {
        label: path.display().to_string(),
        document,
    }
}

/// One request with the policies it is evaluated against.
struct Case {
    identity: Vec<NamedPolicy>,
    boundary: Option<NamedPolicy>,
    resource: Option<NamedPolicy>,
    /// The policy texts, for the parse-every-time variant.
    texts: Vec<(usize, String)>,
    request: Request,
    expected: Option<Decision>,
}

fn decision(word: &str) -> Decision {
    match word {
        "allowed" => Decision::Allowed,
        "implicitDeny" => Decision::ImplicitDeny,
        "explicitDeny" => Decision::ExplicitDeny,
        other => panic!("unknown decision {other}"),
    }
}

fn corpus() -> Vec<Case> {
    let dir = repo().join("tests/fixtures/simulate");
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).expect("cases.json"))
            .expect("cases.json is JSON");
    let path = |name: &Value| {
        dir.join("policies")
            .join(name.as_str().expect("a file name"))
    };
    let text = |p: &Path| std::fs::read_to_string(p).expect("policy file");
    let mut cases = Vec::new();
    for c in data["cases"].as_array().expect("cases") {
        let mut ctx = Context::strict();
        if let Some(map) = c["context"].as_object() {
            for (k, v) in map {
                match v {
                    Value::Array(items) => {
                        for i in items {
                            ctx.add(k, i.as_str().expect("string"));
                        }
                    }
                    other => {
                        ctx.add(k, other.as_str().expect("string"));
                    }
                }
            }
        }
        let mut texts = Vec::new();
        let identity: Vec<NamedPolicy> = c["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .map(|p| {
                texts.push((0, text(&path(p))));
                load(&path(p))
            })
            .collect();
        let boundary = c.get("boundary").filter(|b| b.is_string()).map(|b| {
            texts.push((1, text(&path(b))));
            load(&path(b))
        });
        let resource = c.get("resource_policy").filter(|r| r.is_string()).map(|r| {
            texts.push((2, text(&path(r))));
            load(&path(r))
        });
        cases.push(Case {
            identity,
            boundary,
            resource,
            texts,
            request: Request {
                principal: c["principal"].as_str().expect("principal").to_string(),
                action: c["action"].as_str().expect("action").to_string(),
                resource: c["resource"].as_str().expect("resource").to_string(),
                resource_account: c["resource_account"].as_str().map(str::to_string),
                context: ctx,
            },
            expected: Some(decision(c["expected"].as_str().expect("expected"))),
        });
    }
    cases
}

/// The requests the checks make for the IBM sample attachment, over many object keys.
fn seed() -> Vec<Case> {
    let dir = repo().join("examples/seed");
    let identity = vec![
        load(&dir.join("s3-access-policy.json")),
        load(&dir.join("kms-policy.json")),
    ];
    let bucket_policy = load(&dir.join("bucket-policy.json"));
    let key_policy = load(&dir.join("key-policy.json"));
    let role = "arn:aws:iam::239600258224:role/aspera-kms-access";
    let key = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
    let object_actions = [
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    ];
    let bucket_actions = [
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:GetBucketLocation",
    ];
    let kms_actions = ["kms:GenerateDataKey", "kms:Decrypt"];
    // Every request is one the seed attachment allows.
    let allowed = |resource_policy: &NamedPolicy, request: Request| Case {
        identity: identity.clone(),
        boundary: None,
        resource: Some(resource_policy.clone()),
        texts: Vec::new(),
        request,
        expected: Some(Decision::Allowed),
    };
    let request =
        |action: &str, resource: String, account: Option<&str>, context: &Context| Request {
            principal: role.to_string(),
            action: action.to_string(),
            resource,
            resource_account: account.map(str::to_string),
            context: context.clone(),
        };
    let mut cases = Vec::new();
    for i in 0..200 {
        let mut ctx = Context::strict();
        ctx.add("aws:SecureTransport", "true");
        for a in object_actions {
            let object = format!("arn:aws:s3:::aspera-kms/team{}/file-{i}.bin", i % 17);
            cases.push(allowed(
                &bucket_policy,
                request(a, object, Some("239600258224"), &ctx),
            ));
        }
        for a in bucket_actions {
            let bucket = "arn:aws:s3:::aspera-kms".to_string();
            cases.push(allowed(
                &bucket_policy,
                request(a, bucket, Some("239600258224"), &ctx),
            ));
        }
        let mut kctx = Context::strict();
        kctx.add("kms:ViaService", "s3.us-east-1.amazonaws.com");
        for a in kms_actions {
            cases.push(allowed(
                &key_policy,
                request(a, key.to_string(), None, &kctx),
            ));
        }
    }
    cases
}

/// `REQUESTS` requests cycled from `cases`.
fn requests(cases: &[Case]) -> Vec<&Case> {
    cases.iter().cycle().take(REQUESTS).collect()
}

fn decide(c: &Case) -> Decision {
    let set = PolicySet {
        identity: &c.identity,
        boundary: c.boundary.as_ref(),
        resource: c.resource.as_ref(),
    };
    evaluate(&set, &c.request).decision()
}

/// Parses the case's policies from text, then decides (what one `simulate` process does).
fn parse_and_decide(c: &Case) -> Decision {
    let mut identity = Vec::new();
    let mut boundary = None;
    let mut resource = None;
    for (slot, text) in &c.texts {
        let p = NamedPolicy {
            label: String::new(),
            document: parse_policy(text).expect("parses"),
        };
        match slot {
            0 => identity.push(p),
            1 => boundary = Some(p),
            _ => resource = Some(p),
        }
    }
    let set = PolicySet {
        identity: &identity,
        boundary: boundary.as_ref(),
        resource: resource.as_ref(),
    };
    evaluate(&set, &c.request).decision()
}

/// Decisions per second: the median over `ROUNDS` rounds of all requests.
fn throughput(requests: &[&Case], f: fn(&Case) -> Decision) -> (f64, f64, f64) {
    // Warm-up, and correctness.
    for c in requests {
        let d = f(c);
        if let Some(e) = c.expected {
            assert_eq!(
                d, e,
                "{} {} {}",
                c.request.principal, c.request.action, c.request.resource
            );
        }
    }
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for c in requests {
                black_box(f(black_box(c)));
            }
            requests.len() as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[ROUNDS / 2], rates[0], rates[ROUNDS - 1])
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not supported (two workloads only).
    let corpus_cases = corpus();
    let seed_cases = seed();
    let corpus_reqs = requests(&corpus_cases);
    let seed_reqs = requests(&seed_cases);

    // AOC_BENCH_ONLY=corpus|seed|parse runs one workload (to profile it); the others print 0.
    let only = std::env::var("AOC_BENCH_ONLY").unwrap_or_default();
    let run = |name: &str, reqs: &[&Case], f: fn(&Case) -> Decision| {
        if only.is_empty() || only == name {
            throughput(reqs, f)
        } else {
            (0.0, 0.0, 0.0)
        }
    };
    let (corpus_rate, corpus_min, corpus_max) = run("corpus", &corpus_reqs, decide);
    let (seed_rate, seed_min, seed_max) = run("seed", &seed_reqs, decide);
    let (parse_rate, _, _) = run("parse", &corpus_reqs, parse_and_decide);

    println!(
        "simulate engine, {REQUESTS} requests per round, median of {ROUNDS} rounds, one thread"
    );
    println!(
        "  corpus ({} cases, cycled):      {:>12.0} decisions/s  (min {:.0}, max {:.0})",
        corpus_cases.len(),
        corpus_rate,
        corpus_min,
        corpus_max
    );
    println!(
        "  seed attachment ({} requests): {:>12.0} decisions/s  (min {:.0}, max {:.0})",
        seed_cases.len(),
        seed_rate,
        seed_min,
        seed_max
    );
    println!("  corpus, policies parsed per decision: {parse_rate:>8.0} decisions/s");
    println!(
        "{}",
        serde_json::json!({
            "requests": REQUESTS,
            "rounds": ROUNDS,
            "corpus_cases": corpus_cases.len(),
            "decisions_per_second": corpus_rate,
            "corpus_min": corpus_min,
            "corpus_max": corpus_max,
            "seed_decisions_per_second": seed_rate,
            "parse_and_decide_per_second": parse_rate,
            "target": 100_000,
            "met": corpus_rate >= 100_000.0 && seed_rate >= 100_000.0,
        })
    );
}
