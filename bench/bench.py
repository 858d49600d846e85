#!/usr/bin/env python3
"""The aoc-preflight benchmark (issue 7). Run it through bench/run.sh, which installs what it
needs first; see bench/README.md.

Starts moto and the latency proxy on 127.0.0.1, seeds correct worlds with boto3, and measures:
- live `check` of one attachment vs the `aws` CLI baseline (bench/baseline.sh), at each
  latency, interleaved run by run, with the requests each made (counted by the proxy);
- offline `check` of one attachment, a fleet of 200 offline and live, `--help`, the binary's
  size, and (optionally) the `simulate` throughput bench (benches/simulate.rs).
Writes bench/results-DATE.json and bench/results-DATE.md and prints the Markdown.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, ".venv", "bin")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def log(*args):
    print("[bench]", *args, file=sys.stderr, flush=True)


def get(url, timeout=5):
    with NO_PROXY.open(url, timeout=timeout) as r:
        return r.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(xs):
    return statistics.median(xs) if xs else None


def loadavg():
    try:
        return [float(x) for x in open("/proc/loadavg").read().split()[:3]]
    except OSError:
        return None


def stop_process(proc):
    """Ends a server the bench started: politely, then for good after 5 s."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


def clean_env(workdir):
    """Dummy credentials, empty AWS config files, no instance metadata, nothing inherited
    that could point at a real account or a proxy."""
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    empty = os.path.join(workdir, "empty-aws-config")
    open(empty, "w").close()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": empty,
        "AWS_SHARED_CREDENTIALS_FILE": empty,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class Moto:
    def __init__(self, workdir, env):
        self.port = free_port()
        self.log = open(os.path.join(workdir, "moto.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(VENV, "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                get(self.url + "/moto-api/")
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"moto did not start; see {self.log.name}")
                time.sleep(0.2)

    def stop(self):
        stop_process(self.proc)


class Proxy:
    def __init__(self, upstream_port, workdir):
        self.log = open(os.path.join(workdir, "proxy.log"), "w")
        self.proc = subprocess.Popen(
            [
                os.path.join(VENV, "python"),
                os.path.join(REPO, "bench", "proxy.py"),
                "--upstream-port",
                str(upstream_port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, path):
        return json.loads(get(self.url + path))

    def delay(self, ms):
        self.control(f"/__bench/delay?ms={ms}")

    def reset(self):
        self.control("/__bench/reset")

    def stats(self):
        return self.control("/__bench/stats")

    def stop(self):
        stop_process(self.proc)


def timed(cmd, env, cwd=REPO):
    """Wall time of `cmd` (process start included); the process's CPU time (user + system)
    is left in p.cpu_s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p_start = time.monotonic()
    start = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    secs = time.perf_counter() - start
    p.span = (p_start, time.monotonic())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    p.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return secs, p


def tool_args(world, endpoint):
    return [
        "check",
        "--region", world["region"],
        "--bucket", world["bucket"],
        "--kms-key", world["kms_key"],
        "--role-arn", world["role_arn"],
        "--trust-policy", world["trust_policy"],
        "--endpoint-url", endpoint,
        "--format", "json",
    ]


def baseline_args(world, endpoint):
    return [
        "bash",
        os.path.join(REPO, "bench", "baseline.sh"),
        "--endpoint-url", endpoint,
        "--region", world["region"],
        "--bucket", world["bucket"],
        "--kms-key", world["kms_key"],
        "--role-arn", world["role_arn"],
    ]


def run_tool(binary, world, proxy, env, endpoint=None):
    """One live check through the proxy (or straight to `endpoint`, e.g. moto itself)."""
    proxy.reset()
    secs, p = timed([binary] + tool_args(world, endpoint or proxy.url), env)
    stats = proxy.stats()
    if p.returncode != 0:
        raise SystemExit(f"check exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    report = json.loads(p.stdout)
    if report["status"] != "pass":
        raise SystemExit(f"check did not pass on the correct world:\n{p.stdout[-5000:]}")
    aws = report["aws"]
    first, last = stats["first_request_monotonic"], stats["last_response_monotonic"]
    return {
        "seconds": secs,
        # Process start to the first request arriving at the proxy (whole), and the last
        # answer passed back to process exit.
        "startup_s": first - p.span[0] if first else None,
        "finish_s": p.span[1] - last if last else None,
        "cpu_s": p.cpu_s,
        "requests": aws["requests"],
        "critical_path": aws["critical_path"],
        "proxy_requests": stats["requests"],
        "operations": stats["operations"],
        "calls": aws["calls"],
    }


def run_baseline(world, proxy, env):
    proxy.reset()
    secs, p = timed(baseline_args(world, proxy.url), env)
    stats = proxy.stats()
    if p.returncode != 0:
        raise SystemExit(f"baseline.sh exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    commands = int(p.stdout.strip().splitlines()[-1].split(":")[1])
    return {
        "seconds": secs,
        "cpu_s": p.cpu_s,
        "commands": commands,
        "proxy_requests": stats["requests"],
        "operations": stats["operations"],
    }


def moto_service_time(url, world, n=30):
    """moto's own time per request: the median of `n` sequential calls of a few of the reads,
    straight to moto (no proxy) from boto3 in this process (boto3's own share is ~1 ms)."""
    import boto3

    kw = dict(endpoint_url=url, region_name=world["region"], aws_access_key_id="testing",
              aws_secret_access_key="testing")
    sts, s3, kms, iam = (boto3.client(s, **kw) for s in ("sts", "s3", "kms", "iam"))
    calls = {
        "sts:GetCallerIdentity": lambda: sts.get_caller_identity(),
        "s3:HeadBucket": lambda: s3.head_bucket(Bucket=world["bucket"]),
        "kms:DescribeKey": lambda: kms.describe_key(KeyId=world["key_arn"]),
        "iam:GetRole": lambda: iam.get_role(RoleName=world["role_name"]),
    }
    out = {}
    for name, call in calls.items():
        call()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        out[name] = median(times)
    return out


def hyperfine(name, cmd, env, workdir, runs, warmup=3):
    """Times `cmd` (a list) with hyperfine (no shell in between), or in a loop without it."""
    if shutil.which("hyperfine"):
        out = os.path.join(workdir, f"hyperfine-{name}.json")
        subprocess.run(
            [
                "hyperfine", "--shell=none", "--ignore-failure", "--style", "none",
                "--warmup", str(warmup), "--runs", str(runs), "--export-json", out,
                shlex.join(cmd),
            ],
            env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL,
        )
        r = json.load(open(out))["results"][0]
        times = r["times"]
        tool = "hyperfine"
    else:
        for _ in range(warmup):
            subprocess.run(cmd, env=env, cwd=REPO, capture_output=True)
        times = [timed(cmd, env)[0] for _ in range(runs)]
        tool = "loop"
    return {
        # Paths relative to the repository: a result names no machine's directories.
        "command": shlex.join(os.path.relpath(c, REPO) if os.path.isabs(c) else c for c in cmd),
        "timer": tool,
        "runs": len(times),
        "median_s": median(times),
        "min_s": min(times),
        "max_s": max(times),
    }


def simulate_requests_file(path, n=10_000):
    """`n` requests as `simulate --requests` reads them: what the checks ask for the seed
    attachment (the eight S3 actions AoC needs on objects under many paths and on the bucket,
    and the KMS actions through S3), cycled. Returns the policy flags to evaluate them with."""
    seed = os.path.join(REPO, "examples", "seed")
    role = "arn:aws:iam::239600258224:role/aspera-kms-access"
    key = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46"
    bucket = "arn:aws:s3:::aspera-kms"
    object_actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                      "s3:ListMultipartUploadParts", "s3:GetObjectVersion"]
    bucket_actions = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    kms_actions = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"]
    with open(path, "w") as f:
        for i in range(n):
            ctx = {"aws:SecureTransport": "true"}
            kind = i % 4
            if kind < 2:
                action, resource = object_actions[i % len(object_actions)], f"{bucket}/data/{i % 97}/file-{i}"
            elif kind == 2:
                action, resource = bucket_actions[i % len(bucket_actions)], bucket
                ctx["s3:prefix"] = f"data/{i % 97}/"
            else:
                action, resource = kms_actions[i % len(kms_actions)], key
                ctx["kms:ViaService"] = "s3.us-east-1.amazonaws.com"
                ctx["kms:EncryptionContext:aws:s3:arn"] = f"{bucket}/data/{i % 97}/file-{i}"
            f.write(json.dumps({"principal": role, "action": action, "resource": resource,
                                "context": ctx}) + "\n")
    return ["--policy", os.path.join(seed, "s3-access-policy.json"),
            "--policy", os.path.join(seed, "kms-policy.json"),
            "--resource-policy", os.path.join(seed, "key-policy.json")]


def fleet_config(path, worlds, n, order, endpoint=None, offline_docs=None):
    """A config of `n` attachments. Live: attachment i uses world i % len (interleaved) or
    i // (n / len) (grouped, as a file written bucket by bucket would be). Offline: every
    attachment is the seed sample under its own path."""
    lines = []
    for i in range(n):
        lines.append("[[attachment]]")
        lines.append(f'name = "fleet-{i:03d}"')
        if offline_docs:
            for k, v in offline_docs.items():
                lines.append(f"{k} = {json.dumps(v)}")
        else:
            w = worlds[i % len(worlds)] if order == "interleaved" else worlds[i * len(worlds) // n]
            for k in ("region", "bucket", "kms_key", "role_arn", "trust_policy"):
                lines.append(f"{k} = {json.dumps(w[k])}")
        lines.append(f'path = "/team{i:03d}"')
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def seed_offline_docs():
    """The seed sample's values and documents (examples/seed/aoc.toml), as absolute paths."""
    import tomllib

    seed_dir = os.path.join(REPO, "examples", "seed")
    with open(os.path.join(seed_dir, "aoc.toml"), "rb") as f:
        a = tomllib.load(f)["attachment"][0]
    docs = {}
    for k, v in a.items():
        if k in ("name", "path"):
            continue
        if k in ("trust_policy", "bucket_policy", "key_policy", "role_trust_policy"):
            v = os.path.join(seed_dir, v)
        elif k == "identity_policies":
            v = [os.path.join(seed_dir, x) for x in v]
        docs[k] = v
    return docs


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem_kb = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": loadavg(),
    }


def versions(binary, env):
    def out(cmd):
        try:
            return subprocess.run(cmd, env=env, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    commit = out(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml", "Cargo.lock"])
    return {
        "tool": out([binary, "--version"]),
        "commit": commit + ("+dirty-src" if dirty else ""),
        "aws_cli": out([os.path.join(VENV, "aws"), "--version"]),
        "moto": out([os.path.join(VENV, "python"), "-c", "import moto; print(moto.__version__)"]),
        "hyperfine": out(["hyperfine", "--version"]) if shutil.which("hyperfine") else "",
    }


def run_simulate_bench(source):
    """benches/simulate.rs of the crate at `source`, built in the release target dir at low
    priority; returns its JSON line."""
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target", "bench"))
    benv = dict(os.environ, CARGO_TARGET_DIR=target)
    p = subprocess.run(
        ["nice", "-n", "19", "cargo", "bench", "--locked", "--bench", "simulate"],
        cwd=source, env=benv, capture_output=True, text=True,
    )
    if p.returncode != 0:
        log("simulate bench failed:", p.stderr[-2000:])
        return {"error": p.stderr[-2000:]}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": "no JSON line in the bench's output", "stdout": p.stdout[-2000:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("AOC_PREFLIGHT_BIN", os.path.join(REPO, "target", "bench", "release", "aoc-preflight")))
    ap.add_argument("--runs", type=int, default=7, help="runs per latency (tool and baseline)")
    ap.add_argument("--latencies", default="0,20,50", help="added latency per request, ms")
    ap.add_argument("--fleet-size", type=int, default=200)
    ap.add_argument("--fleet-worlds", type=int, default=10)
    ap.add_argument("--fleet-runs", type=int, default=5)
    ap.add_argument("--fleet-latency", type=float, default=50)
    ap.add_argument("--jobs", default="8,16,32,64", help="--jobs values for the live fleet")
    ap.add_argument("--offline-runs", type=int, default=50)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-fleet", action="store_true")
    ap.add_argument("--skip-simulate", action="store_true")
    ap.add_argument("--source", default=REPO,
                    help="the crate whose `simulate` bench is built and run (default: this "
                         "repository; an export such as `git archive HEAD` keeps others' "
                         "unfinished edits out)")
    ap.add_argument("--built-from", default=None,
                    help="the commit the binary was built from (default: the repository's HEAD)")
    ap.add_argument("--out", default=None, help="results file stem (default bench/results-DATE)")
    args = ap.parse_args()

    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        raise SystemExit(
            f"no aoc-preflight binary at {binary}: build it with\n"
            "  CARGO_TARGET_DIR=target/bench nice -n 19 cargo build --release --locked\n"
            "or set AOC_PREFLIGHT_BIN"
        )
    latencies = [float(x) for x in args.latencies.split(",")]
    jobs_values = [int(x) for x in args.jobs.split(",")]

    workdir = tempfile.mkdtemp(prefix="aoc-bench-")
    env = clean_env(workdir)
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": dict(versions(binary, env), **({"commit": args.built_from} if args.built_from else {})),
        "binary": {"path": os.path.relpath(binary, REPO), "size_bytes": os.path.getsize(binary)},
        "settings": {
            k: os.path.relpath(v, REPO) if isinstance(v, str) and os.path.isabs(v) else v
            for k, v in vars(args).items()
        },
    }
    log("machine", results["machine"])

    moto = Moto(workdir, env)
    proxy = Proxy(moto.port, workdir)
    try:
        log(f"moto on {moto.url}, proxy on {proxy.url}; seeding {args.fleet_worlds} worlds")
        seeded = subprocess.run(
            [os.path.join(VENV, "python"), os.path.join(REPO, "bench", "seed.py"),
             "--endpoint", moto.url, "--worlds", str(max(1, args.fleet_worlds)), "--dir", workdir],
            env=env, capture_output=True, text=True, check=True,
        )
        worlds = json.loads(seeded.stdout)
        world = worlds[0]

        results["moto_service"] = moto_service_time(moto.url, world)

        # --- one attachment, live: tool vs aws CLI, at each latency -------------------------
        live = []
        proxy.delay(0)
        run_tool(binary, world, proxy, env)  # warm-up (page cache)
        if not args.skip_baseline:
            run_baseline(world, proxy, env)  # warm-up (.pyc)
        # The tool straight to moto, no proxy: what the proxy itself costs at 0 ms.
        direct = [run_tool(binary, world, proxy, env, endpoint=moto.url) for _ in range(args.runs)]
        results["live_direct_to_moto"] = {
            "median_s": median([r["seconds"] for r in direct]),
            "cpu_median_s": median([r["cpu_s"] for r in direct]),
        }
        for ms in latencies:
            proxy.delay(ms)
            tool_runs, base_runs = [], []
            for i in range(args.runs):
                tool_runs.append(run_tool(binary, world, proxy, env))
                if not args.skip_baseline:
                    base_runs.append(run_baseline(world, proxy, env))
                log(f"{ms:g} ms run {i + 1}/{args.runs}: tool {tool_runs[-1]['seconds']*1000:.0f} ms"
                    + (f", aws CLI {base_runs[-1]['seconds']*1000:.0f} ms" if base_runs else ""))
            t = tool_runs[-1]
            cp = t["critical_path"]
            tool_median = median([r["seconds"] for r in tool_runs])
            bound = 1.5 * cp * ms / 1000 + 0.100
            entry = {
                "latency_ms": ms,
                "tool": {
                    "median_s": tool_median,
                    "all_s": [r["seconds"] for r in tool_runs],
                    "cpu_median_s": median([r["cpu_s"] for r in tool_runs]),
                    "startup_median_s": median([r["startup_s"] for r in tool_runs if r["startup_s"] is not None]),
                    "finish_median_s": median([r["finish_s"] for r in tool_runs if r["finish_s"] is not None]),
                    "requests": t["requests"],
                    "proxy_requests": t["proxy_requests"],
                    "critical_path": cp,
                    "operations": t["operations"],
                },
                "bound_s": bound,
                "bound_met": tool_median <= bound,
                "lower_bound_s": cp * ms / 1000,
            }
            if base_runs:
                b = base_runs[-1]
                base_median = median([r["seconds"] for r in base_runs])
                entry["baseline"] = {
                    "median_s": base_median,
                    "all_s": [r["seconds"] for r in base_runs],
                    "cpu_median_s": median([r["cpu_s"] for r in base_runs]),
                    "commands": b["commands"],
                    "proxy_requests": b["proxy_requests"],
                    "operations": b["operations"],
                }
                entry["ratio"] = base_median / tool_median
            live.append(entry)
        results["live"] = live
        # The calls of the last run at the highest latency: per-call time and depth.
        results["live_calls_example"] = tool_runs[-1]["calls"]
        results["loadavg_after_live"] = loadavg()

        # --- offline, --help ---------------------------------------------------------------
        seed_cfg = os.path.join(REPO, "examples", "seed", "aoc.toml")
        results["offline_single"] = hyperfine(
            "offline-single", [binary, "check", "--offline", "--config", seed_cfg],
            env, workdir, args.offline_runs)
        results["offline_single_json"] = hyperfine(
            "offline-single-json",
            [binary, "check", "--offline", "--config", seed_cfg, "--format", "json"],
            env, workdir, args.offline_runs)
        results["help"] = hyperfine("help", [binary, "--help"], env, workdir, args.offline_runs)
        # `simulate --requests`: 10,000 decisions in one process, start-up, reading and
        # printing (JSON Lines) included.
        requests = os.path.join(workdir, "simulate-requests.jsonl")
        flags = simulate_requests_file(requests)
        sim_cmd = [binary, "simulate", *flags, "--requests", requests, "--format", "json"]
        answers = subprocess.run(sim_cmd, env=env, capture_output=True, text=True, check=True)
        n_answers = len(answers.stdout.splitlines())
        sim_cli = hyperfine("simulate-cli", sim_cmd, env, workdir, max(5, args.offline_runs // 5), warmup=1)
        sim_cli["requests"] = n_answers
        sim_cli["decisions_per_second"] = n_answers / sim_cli["median_s"]
        results["simulate_cli"] = sim_cli
        log("simulate --requests", n_answers, "in", sim_cli["median_s"])
        log("offline single", results["offline_single"]["median_s"])

        if not args.skip_fleet:
            # --- fleet offline -------------------------------------------------------------
            cfg = os.path.join(workdir, "fleet-offline.toml")
            fleet_config(cfg, None, args.fleet_size, None, offline_docs=seed_offline_docs())
            p = subprocess.run([binary, "check", "--offline", "--config", cfg, "--format", "json"],
                               env=env, capture_output=True, text=True)
            n_reports = len(json.loads(p.stdout)["reports"])
            results["fleet_offline"] = hyperfine(
                "fleet-offline", [binary, "check", "--offline", "--config", cfg, "--format", "json"],
                env, workdir, max(5, args.offline_runs // 5), warmup=1)
            results["fleet_offline"]["attachments"] = n_reports
            results["fleet_offline"]["ratio_to_single"] = (
                results["fleet_offline"]["median_s"] / results["offline_single_json"]["median_s"])
            log("fleet offline", results["fleet_offline"]["median_s"])

            # --- fleet live ----------------------------------------------------------------
            proxy.delay(args.fleet_latency)
            single = [run_tool(binary, world, proxy, env)["seconds"] for _ in range(args.fleet_runs)]
            single_median = median(single)
            fleet = {"latency_ms": args.fleet_latency, "attachments": args.fleet_size,
                     "worlds": len(worlds), "single_median_s": single_median, "runs": []}
            for order in ("interleaved", "grouped"):
                cfg = os.path.join(workdir, f"fleet-live-{order}.toml")
                fleet_config(cfg, worlds, args.fleet_size, order)
                for jobs in jobs_values:
                    times, reqs = [], None
                    for _ in range(args.fleet_runs):
                        proxy.reset()
                        secs, p = timed([binary, "check", "--config", cfg, "--endpoint-url", proxy.url,
                                         "--format", "json", "--jobs", str(jobs)], env)
                        stats = proxy.stats()
                        rep = json.loads(p.stdout)
                        if rep["status"] != "pass" or len(rep["reports"]) != args.fleet_size:
                            raise SystemExit(f"fleet run did not pass: {p.stdout[-3000:]}")
                        times.append(secs)
                        reqs = (rep.get("aws_requests"), stats["requests"])
                    m = median(times)
                    fleet["runs"].append({
                        "order": order, "jobs": jobs, "median_s": m, "all_s": times,
                        "aws_requests": reqs[0], "proxy_requests": reqs[1],
                        "ratio_to_single": m / single_median, "met": m < 10 * single_median,
                    })
                    log(f"fleet live {order} --jobs {jobs}: {m*1000:.0f} ms "
                        f"({m/single_median:.1f}x single), {reqs[1]} requests")
            results["fleet_live"] = fleet

        if not args.skip_simulate:
            log("simulate bench (cargo bench --bench simulate, nice 19)")
            results["simulate"] = run_simulate_bench(args.source)
    finally:
        proxy.stop()
        moto.stop()
        results["loadavg_at_end"] = loadavg()

    date = datetime.date.today().isoformat()
    stem = args.out or os.path.join(REPO, "bench", f"results-{date}")
    with open(stem + ".json", "w") as f:
        json.dump(results, f, indent=2)
    md = render(results)
    with open(stem + ".md", "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {stem}.json and {stem}.md; scratch files in {workdir}")


def ms(s):
    return "—" if s is None else f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def render(r):
    m, v = r["machine"], r["versions"]
    out = [f"# aoc-preflight benchmark, {r['date']}", ""]
    out.append(f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}; "
               f"load average at start {m['loadavg_at_start']}, at end {r.get('loadavg_at_end')}.")
    out.append(f"Versions: {v['tool']} ({v['commit']}), {v['aws_cli']}, moto {v['moto']}"
               + (f", {v['hyperfine']}" if v['hyperfine'] else "") + ".")
    s = r["settings"]
    out.append(f"Settings: {s['runs']} runs per latency, medians; binary {r['binary']['path']}.")
    out.append("")
    out.append("## One attachment, live, vs the `aws` CLI procedure")
    out.append("")
    out.append("| added latency | tool (median) | tool CPU | requests | critical path | bound 1.5×cp×lat+100 ms | bound met | aws CLI (median) | CLI requests | CLI / tool |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for e in r.get("live", []):
        t, b = e["tool"], e.get("baseline")
        out.append(
            f"| {e['latency_ms']:g} ms | {ms(t['median_s'])} | {ms(t['cpu_median_s'])} | {t['requests']} (proxy: {t['proxy_requests']}) "
            f"| {t['critical_path']} | {ms(e['bound_s'])} | {'yes' if e['bound_met'] else '**no**'} "
            f"| {ms(b['median_s']) if b else '—'} | {b['proxy_requests'] if b else '—'} "
            f"| {format(e['ratio'], '.1f') + '×' if b else '—'} |")
    if r.get("live"):
        out.append("")
        out.append("Where the tool's time goes (medians): from process start to its first request at the proxy, "
                   "and from the last answer to exit:")
        out.append("")
        out.append("| added latency | start-up → first request | AWS phase | last answer → exit | lower bound cp × latency |")
        out.append("|---|---|---|---|---|")
        for e in r["live"]:
            t = e["tool"]
            aws_phase = t["median_s"] - (t["startup_median_s"] or 0) - (t["finish_median_s"] or 0)
            out.append(f"| {e['latency_ms']:g} ms | {ms(t['startup_median_s'])} | {ms(aws_phase)} | {ms(t['finish_median_s'])} | {ms(e['lower_bound_s'])} |")
        b = [e["baseline"] for e in r["live"] if "baseline" in e]
        if b:
            out.append("")
            out.append(f"The `aws` CLI baseline runs {b[0]['commands']} commands, one process each: "
                       f"{ms(b[0]['median_s'] / b[0]['commands'])} per command at {r['live'][0]['latency_ms']:g} ms added latency, "
                       f"CPU {ms(b[0]['cpu_median_s'])} per run (Python start-up and botocore loading, per command).")
    mst = r.get("moto_service")
    if mst:
        out.append("")
        out.append("moto's own time per request (sequential boto3 calls straight to moto, medians): "
                   + ", ".join(f"{k} {ms(v)}" for k, v in mst.items())
                   + ". moto is one Python process: concurrent requests queue behind each other.")
    d = r.get("live_direct_to_moto")
    if d:
        out.append("")
        out.append(f"The tool straight to moto (no proxy): {ms(d['median_s'])} (CPU {ms(d['cpu_median_s'])}). "
                   "Times are wall clock from process start to exit; CPU is the process's user + system time.")
    out.append("")
    out.append("## Other measurements")
    out.append("")
    out.append("| what | median | notes |")
    out.append("|---|---|---|")
    o = r.get("offline_single")
    if o:
        out.append(f"| offline check, one attachment (text), process start included | {ms(o['median_s'])} | {o['runs']} runs, {o['timer']}, min {ms(o['min_s'])} |")
        oj = r["offline_single_json"]
        out.append(f"| offline check, one attachment (`--format json`) | {ms(oj['median_s'])} | {oj['runs']} runs, min {ms(oj['min_s'])} |")
    fo = r.get("fleet_offline")
    if fo:
        out.append(f"| offline check, fleet of {fo['attachments']} (`--format json`) | {ms(fo['median_s'])} | {fo['ratio_to_single']:.1f}× one attachment |")
    h = r.get("help")
    if h:
        out.append(f"| `--help` (start-up) | {ms(h['median_s'])} | {h['runs']} runs, min {ms(h['min_s'])} |")
    out.append(f"| release binary size | {r['binary']['size_bytes'] / 1e6:.1f} MB | {r['binary']['size_bytes']} bytes |")
    sc = r.get("simulate_cli")
    if sc:
        out.append(f"| `simulate --requests`, {sc['requests']:,} requests the checks make for the seed attachment, one process (start-up, reading, JSON Lines output included) | {sc['decisions_per_second']:,.0f} decisions/s | {ms(sc['median_s'])} per run, {sc['runs']} runs |")
    sim = r.get("simulate")
    if sim and "decisions_per_second" in sim:
        out.append(f"| policy engine (`simulate`), {sim['requests']} requests cycled from the {sim['corpus_cases']}-case corpus, one thread | {sim['decisions_per_second']:,.0f} decisions/s | median of {sim['rounds']} rounds (min {sim['corpus_min']:,.0f}, max {sim['corpus_max']:,.0f}) |")
        out.append(f"| policy engine, {sim['requests']} requests the checks make for the seed attachment (2 identity policies + bucket or key policy) | {sim['seed_decisions_per_second']:,.0f} decisions/s | median of {sim['rounds']} rounds |")
        out.append(f"| policy engine, corpus, policies parsed again for every decision | {sim['parse_and_decide_per_second']:,.0f} decisions/s | what one `simulate` process does, less start-up and file reads |")
    elif sim:
        out.append(f"| `simulate` bench | failed | {sim.get('error', '')[:200]} |")
    calls = r.get("live_calls_example")
    if calls:
        lat = r["live"][-1]["latency_ms"] if r.get("live") else 0
        out.append("")
        out.append(f"## The tool's calls in its last run at {lat:g} ms")
        out.append("")
        out.append("| operation | depth | ms (as the tool timed it) |")
        out.append("|---|---|---|")
        for c in sorted(calls, key=lambda c: (c["depth"], c["operation"])):
            out.append(f"| {c['operation']} | {c['depth']} | {c['millis']} |")
    fl = r.get("fleet_live")
    if fl:
        out.append("")
        out.append(f"## Fleet of {fl['attachments']} attachments, live, {fl['latency_ms']:g} ms added latency")
        out.append("")
        out.append(f"{fl['worlds']} worlds (role, key, bucket), each attached {fl['attachments'] // fl['worlds']} times under different paths. "
                   f"One attachment alone at this latency: {ms(fl['single_median_s'])} (median). Target: under 10× that.")
        out.append("")
        out.append("| order in the file | --jobs | median | × one attachment | under 10× | AWS requests |")
        out.append("|---|---|---|---|---|---|")
        for f in fl["runs"]:
            out.append(f"| {f['order']} | {f['jobs']} | {ms(f['median_s'])} | {f['ratio_to_single']:.1f}× | {'yes' if f['met'] else '**no**'} | {f['proxy_requests']} |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
