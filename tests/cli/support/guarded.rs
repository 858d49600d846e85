//! The binary as the safety tests run it: an empty environment (nothing of the developer's
//! shell), a time limit that turns a hang into a failure, a panic of the tool caught as one,
//! and what the run gave; the clean live-mode environment and the seed example's inputs they
//! share.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Longest a run may take before it counts as a hang.
const GUARD: Duration = Duration::from_secs(60);

/// The binary with an empty environment (nothing of the developer's shell) and no colour.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = crate::support::bin();
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

/// What one guarded run gave.
#[derive(Debug)]
pub struct Outcome {
    pub what: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` under [`GUARD`]; panics on a hang, a signal or a panic of the tool.
pub fn run(cmd: &mut assert_cmd::Command, what: &str) -> Outcome {
    let started = std::time::Instant::now();
    let out = cmd
        .timeout(GUARD)
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run aoc-preflight: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let Some(code) = out.status.code() else {
        panic!(
            "{what}: killed after {:?} ({}): a hang or a crash\nstderr: {}",
            started.elapsed(),
            out.status,
            head(&stderr)
        );
    };
    assert!(
        !stderr.contains("panicked") && code != 101,
        "{what}: the tool panicked\n{}",
        head(&stderr)
    );
    Outcome {
        what: what.to_string(),
        code,
        stdout,
        stderr,
    }
}

/// The start of a long text, for assertion messages.
pub fn head(text: &str) -> String {
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

impl Outcome {
    /// Exit 2, nothing on standard output, and one line on standard error that starts like
    /// every usage error, names `names` and says each of `problem`, without dumping the input.
    pub fn assert_usage_error(&self, names: &str, problem: &[&str]) {
        let ctx = format!(
            "{}\nexit {}\nstderr: {}",
            self.what,
            self.code,
            head(&self.stderr)
        );
        assert_eq!(self.code, 2, "{ctx}");
        assert!(
            self.stdout.is_empty(),
            "a report after a usage error: {ctx}"
        );
        assert!(self.stderr.ends_with('\n'), "{ctx}");
        assert_eq!(self.stderr.lines().count(), 1, "not one line: {ctx}");
        assert!(self.stderr.starts_with("aoc-preflight: error: "), "{ctx}");
        assert!(
            self.stderr.contains(names),
            "does not name `{names}`: {ctx}"
        );
        for p in problem {
            assert!(self.stderr.contains(p), "does not say `{p}`: {ctx}");
        }
        assert!(
            self.stderr.len() < 1000 + names.len(),
            "the message dumps the input ({} bytes): {ctx}",
            self.stderr.len()
        );
    }

    pub fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not a JSON report ({e}), exit {}\nstderr: {}",
                self.what,
                self.code,
                head(&self.stderr)
            )
        })
    }
}

/// Credentials for a live run.
pub struct Credentials {
    pub access_key: &'static str,
    pub secret_key: &'static str,
    pub session_token: Option<&'static str>,
}

impl Credentials {
    pub fn moto() -> Credentials {
        Credentials {
            access_key: crate::support::moto::ACCESS_KEY,
            secret_key: crate::support::moto::SECRET_KEY,
            session_token: None,
        }
    }
}

/// A clean live-mode environment: the given credentials, empty AWS config and credentials
/// files in `dir`, no instance metadata.
pub fn live_env<'a>(
    cmd: &'a mut assert_cmd::Command,
    dir: &Path,
    creds: &Credentials,
) -> &'a mut assert_cmd::Command {
    let config = dir.join("aws-config");
    let credentials = dir.join("aws-credentials");
    std::fs::write(&config, "").expect("write empty AWS config");
    std::fs::write(&credentials, "").expect("write empty AWS credentials");
    cmd.env("AWS_ACCESS_KEY_ID", creds.access_key)
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_key)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(token) = creds.session_token {
        cmd.env("AWS_SESSION_TOKEN", token);
    }
    cmd
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the seed example (`examples/seed/`).
pub fn seed(name: &str) -> PathBuf {
    repo().join("examples/seed").join(name)
}

/// `check --offline --format json --config FILE`.
pub fn read_config(file: &Path) -> Outcome {
    let mut cmd = bin();
    cmd.args(["check", "--offline", "--format", "json", "--config"])
        .arg(file);
    run(&mut cmd, &format!("--config {}", file.display()))
}
