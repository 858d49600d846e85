//! The moto server the live-mode tests run against, SDK clients to seed it, and the binary run
//! in live mode with a clean environment.
//!
//! One server per test process ([`shared`]), on 127.0.0.1 with a free port; tests give their
//! resources unique names instead of resetting it. A test that needs server-wide settings (IAM
//! enforcement) starts its own with [`MotoServer::start`]. moto comes from
//! `$AOC_PREFLIGHT_MOTO_SERVER` or `<repo>/.venv/bin/moto_server` (`./scripts/setup-moto.sh`);
//! when it is missing the tests panic, never skip.
//!
//! Nothing here talks to anything but 127.0.0.1, and only with dummy credentials.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// Dummy credentials moto accepts for its default account (123456789012).
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

/// How long moto may take to answer `GET /moto-api/` after it is started.
const START_WAIT: Duration = Duration::from_secs(30);

/// A running `moto_server`. Killed when dropped, and in any case by a watchdog shell when the
/// test process is gone (a `static` is never dropped).
pub struct MotoServer {
    pub port: u16,
    moto: Child,
    watchdog: Child,
    log: PathBuf,
}

/// The server shared by every test of this process.
pub fn shared() -> &'static MotoServer {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    SERVER.get_or_init(|| MotoServer::start(&[]))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn moto_binary() -> PathBuf {
    let path = std::env::var_os("AOC_PREFLIGHT_MOTO_SERVER")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/moto_server"));
    if !path.is_file() {
        panic!(
            "moto_server not found at {}: the live-mode tests need moto. Install it with \
             `./scripts/setup-moto.sh` (creates .venv at the repository root), or point \
             AOC_PREFLIGHT_MOTO_SERVER at a moto_server executable.",
            path.display()
        );
    }
    path
}

/// A port nobody listens on now (the OS picks it; moto binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

impl MotoServer {
    /// Starts a server with these extra environment variables and waits until it answers.
    pub fn start(env: &[(&str, &str)]) -> MotoServer {
        let binary = moto_binary();
        // Another process may take the free port before moto binds it: try a few.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match MotoServer::try_start(&binary, env) {
                Ok(server) => return server,
                Err(e) => failures.push(e),
            }
        }
        panic!("moto_server did not start:\n{}", failures.join("\n---\n"));
    }

    fn try_start(binary: &std::path::Path, env: &[(&str, &str)]) -> Result<MotoServer, String> {
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "aoc-preflight-moto-{}-{port}.log",
            std::process::id()
        ));
        let out = File::create(&log).expect("create moto log");
        let err = out.try_clone().expect("clone moto log handle");
        let mut cmd = Command::new(binary);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // moto reads these; nothing of the developer's AWS setup may leak in.
        scrub_aws_env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_DEFAULT_REGION", "us-east-1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let moto = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        // Kills moto (and removes its log) once the test process is gone.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(
                r#"while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
                   kill "$2" 2>/dev/null; rm -f "$3""#,
            )
            .arg("moto-watchdog")
            .arg(std::process::id().to_string())
            .arg(moto.id().to_string())
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the moto watchdog (sh)");
        let mut server = MotoServer {
            port,
            moto,
            watchdog,
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for `GET /moto-api/`. A server that exits first (its port was taken) is an error
    /// to retry; one that does not answer in time is a panic. Both carry moto's output.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.moto.try_wait() {
                return Err(format!(
                    "moto_server on port {} exited ({status}) before answering:\n{}",
                    self.port,
                    self.log_text()
                ));
            }
            if let Ok((200, _)) = http(self.port, "GET", "/moto-api/", None) {
                return Ok(());
            }
            if started.elapsed() > START_WAIT {
                panic!(
                    "moto_server on port {} did not answer GET /moto-api/ within {} s:\n{}",
                    self.port,
                    START_WAIT.as_secs(),
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Turns IAM enforcement on for the whole server from now on (moto's `reset-auth`): every
    /// later request is checked against the caller's IAM policies, and the dummy `testing`
    /// credentials stop working. Seed first.
    pub fn enforce_iam(&self) {
        let (status, body) = http(self.port, "POST", "/moto-api/reset-auth", Some("0"))
            .unwrap_or_else(|e| panic!("POST /moto-api/reset-auth: {e}"));
        assert_eq!(status, 200, "reset-auth answered {status}: {body}");
    }

    /// An IAM user with these inline policies and an access key, then IAM enforcement on
    /// ([`MotoServer::enforce_iam`]), shown to be on: the user's key is accepted and moto's
    /// dummy credentials are refused. Returns the key.
    pub fn enforced_user(
        &self,
        user: &str,
        policies: &[(&str, &serde_json::Value)],
    ) -> aws_sdk_iam::types::AccessKey {
        let clients = Clients::new(&self.endpoint(), "us-east-1");
        let key = runtime().block_on(async {
            clients
                .iam
                .create_user()
                .user_name(user)
                .send()
                .await
                .expect("iam:CreateUser");
            for (name, doc) in policies {
                clients
                    .iam
                    .put_user_policy()
                    .user_name(user)
                    .policy_name(*name)
                    .policy_document(doc.to_string())
                    .send()
                    .await
                    .expect("iam:PutUserPolicy");
            }
            clients
                .iam
                .create_access_key()
                .user_name(user)
                .send()
                .await
                .expect("iam:CreateAccessKey")
                .access_key
                .expect("access key")
        });
        self.enforce_iam();
        runtime().block_on(async {
            let who = Clients::with_credentials(
                &self.endpoint(),
                "us-east-1",
                &key.access_key_id,
                &key.secret_access_key,
            )
            .sts
            .get_caller_identity()
            .send()
            .await
            .expect("sts:GetCallerIdentity as the user");
            assert!(who.arn().unwrap_or_default().ends_with(user), "{who:?}");
            let refused = clients.sts.get_caller_identity().send().await;
            assert!(refused.is_err(), "enforcement is off: {refused:?}");
        });
        key
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.moto.kill();
        let _ = self.moto.wait();
        let _ = self.watchdog.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One plain HTTP/1.0 request to moto; returns the status and the body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Leaves out the test process's settings, as [`super::bin`] does.
fn scrub_aws_env(cmd: &mut Command) {
    for key in super::inherited_settings() {
        cmd.env_remove(key);
    }
}

// ---------------------------------------------------------------------------------------------
// SDK clients for seeding
// ---------------------------------------------------------------------------------------------

/// SDK clients for one region of a moto server: dummy static credentials, no retries, no
/// profile files or environment read, path-style S3.
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub fn new(endpoint: &str, region: &str) -> Clients {
        Clients::with_credentials(endpoint, region, ACCESS_KEY, SECRET_KEY)
    }

    pub fn with_credentials(endpoint: &str, region: &str, key: &str, secret: &str) -> Clients {
        let creds = aws_sdk_s3::config::Credentials::new(key, secret, None, None, "test");
        let region = aws_sdk_s3::config::Region::new(region.to_string());
        let latest = aws_sdk_s3::config::BehaviorVersion::latest;
        let no_retry = aws_sdk_s3::config::retry::RetryConfig::disabled;
        let s3 = aws_sdk_s3::Config::builder()
            .behavior_version(latest())
            .endpoint_url(endpoint)
            .region(region.clone())
            .credentials_provider(creds.clone())
            .retry_config(no_retry())
            .force_path_style(true)
            .build();
        let kms = aws_sdk_kms::Config::builder()
            .behavior_version(latest())
            .endpoint_url(endpoint)
            .region(region.clone())
            .credentials_provider(creds.clone())
            .retry_config(no_retry())
            .build();
        let iam = aws_sdk_iam::Config::builder()
            .behavior_version(latest())
            .endpoint_url(endpoint)
            .region(region.clone())
            .credentials_provider(creds.clone())
            .retry_config(no_retry())
            .build();
        let sts = aws_sdk_sts::Config::builder()
            .behavior_version(latest())
            .endpoint_url(endpoint)
            .region(region)
            .credentials_provider(creds)
            .retry_config(no_retry())
            .build();
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3),
            kms: aws_sdk_kms::Client::from_conf(kms),
            iam: aws_sdk_iam::Client::from_conf(iam),
            sts: aws_sdk_sts::Client::from_conf(sts),
        }
    }
}

/// A runtime for seeding from a plain `#[test]`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// The binary in live mode
// ---------------------------------------------------------------------------------------------

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub report: Value,
    pub stderr: String,
}

impl Run {
    /// The check with this ID; panics with the report when it is absent.
    pub fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id} in the report:\n{}", self.pretty()))
    }

    pub fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap_or("")
    }

    /// The IDs of the checks with this status.
    pub fn with_status(&self, status: &str) -> BTreeSet<String> {
        self.report["checks"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter(|c| c["status"] == status)
                    .filter_map(|c| c["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Everything a check says (summary, evidence, findings, remediation) as one string, to
    /// search for the offending value.
    pub fn text(&self, id: &str) -> String {
        self.check(id).to_string()
    }

    pub fn pretty(&self) -> String {
        format!(
            "exit {}\n{}\nstderr: {}",
            self.code,
            serde_json::to_string_pretty(&self.report).unwrap_or_default(),
            self.stderr
        )
    }

    /// Exactly these checks fail (and so the run exits 1).
    pub fn assert_fails_exactly(&self, ids: &[&str]) {
        let want: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
        let got = self.with_status("fail");
        assert_eq!(got, want, "failing checks differ\n{}", self.pretty());
        let code = if want.is_empty() { 0 } else { 1 };
        assert_eq!(self.code, code, "exit code\n{}", self.pretty());
    }

    /// The check has this status and says `needle` somewhere (summary, evidence, findings).
    pub fn assert_says(&self, id: &str, status: &str, needle: &str) {
        assert_eq!(self.status(id), status, "{id}\n{}", self.pretty());
        let text = self.text(id);
        assert!(
            text.contains(needle),
            "{id} does not mention `{needle}`: {text}\n{}",
            self.pretty()
        );
    }
}

/// `aoc-preflight check --format json` in live mode against `endpoint`, with a clean
/// environment: no `AWS_*` or `AOC_PREFLIGHT_*` variable of the developer's, the given
/// credentials, empty config and credentials files, no instance metadata.
pub struct LiveCmd {
    endpoint: String,
    access_key: String,
    secret_key: String,
    args: Vec<OsString>,
    guard: Duration,
}

impl LiveCmd {
    pub fn new(endpoint: &str) -> LiveCmd {
        LiveCmd {
            endpoint: endpoint.to_string(),
            access_key: ACCESS_KEY.to_string(),
            secret_key: SECRET_KEY.to_string(),
            args: Vec::new(),
            guard: Duration::from_secs(60),
        }
    }

    pub fn credentials(mut self, key: &str, secret: &str) -> LiveCmd {
        self.access_key = key.to_string();
        self.secret_key = secret.to_string();
        self
    }

    pub fn args<I, S>(mut self, args: I) -> LiveCmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Kill the run after this long and fail the test (the tool must end by itself well before).
    pub fn guard(mut self, guard: Duration) -> LiveCmd {
        self.guard = guard;
        self
    }

    pub fn run(self) -> Run {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("config");
        let credentials = dir.path().join("credentials");
        std::fs::write(&config, "").expect("write empty AWS config");
        std::fs::write(&credentials, "").expect("write empty AWS credentials");

        let mut cmd = Command::cargo_bin("aoc-preflight").expect("binary builds");
        scrub_aws_env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", &self.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret_key)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .args([
                "check",
                "--format",
                "json",
                "--endpoint-url",
                &self.endpoint,
            ])
            .args(&self.args)
            .current_dir(dir.path());
        let (status, stdout, stderr) = run_guarded(cmd, self.guard);
        let Some(status) = status else {
            panic!(
                "aoc-preflight did not end within {} s and was killed\nargs: {:?}\nstdout: {stdout}\nstderr: {stderr}",
                self.guard.as_secs(),
                self.args
            );
        };
        let code = status.code().unwrap_or(-1);
        let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("exit {code}, stdout is not a JSON report ({e}):\n{stdout}\nstderr: {stderr}")
        });
        Run {
            code,
            report,
            stderr,
        }
    }
}

/// Runs `cmd`, killing it after `guard`; `None` status when it had to be killed.
fn run_guarded(mut cmd: Command, guard: Duration) -> (Option<ExitStatus>, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn aoc-preflight");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + guard;
    let status = loop {
        match child.try_wait().expect("wait for aoc-preflight") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    (status, stdout, stderr)
}
