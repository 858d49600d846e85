//! Replays every saved fuzz input through the fuzz targets' bodies (issue 6): the inputs that
//! once crashed a target (`fuzz/regressions/<target>/`) and the seed corpora the targets start
//! from (the repository's own fixtures and `fuzz/seeds/`). The bodies assert the properties
//! that must hold for any input, so this is the fuzzers' oracle run on known inputs in every
//! CI run, without a nightly toolchain or a sanitizer build.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod bodies;

/// A target's body, by the name `fuzz/Cargo.toml` gives its binary.
fn body(target: &str) -> fn(&[u8]) {
    match target {
        "policy" => bodies::policy,
        "arn" => bodies::arn,
        "config" => bodies::config,
        "trust" => bodies::trust,
        "bundle" => bodies::bundle,
        other => panic!("fuzz target {other} has no body here: add it"),
    }
}

/// Each target's seed directories, from `fuzz/seed-dirs.txt` (which `fuzz/run.sh` reads too).
fn seed_dirs() -> Vec<(String, Vec<String>)> {
    let text =
        std::fs::read_to_string(repo().join("fuzz/seed-dirs.txt")).expect("fuzz/seed-dirs.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_string);
            let target = words.next().expect("a target name");
            (target, words.collect())
        })
        .collect()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs one target over its seeds and regressions; fails naming every input that panicked.
fn replay(name: &str) {
    let body = body(name);
    let (_, seeds) = seed_dirs()
        .into_iter()
        .find(|(target, _)| target == name)
        .unwrap_or_else(|| panic!("fuzz/seed-dirs.txt has no line for {name}"));
    let mut inputs = Vec::new();
    for dir in &seeds {
        inputs.extend(files(&repo().join(dir)));
    }
    // Git keeps no empty directory: a target that never crashed has none.
    let regressions = repo().join("fuzz/regressions").join(name);
    if regressions.is_dir() {
        inputs.extend(files(&regressions));
    }
    let mut failures = Vec::new();
    for input in &inputs {
        let data = std::fs::read(input).expect("read a fuzz input");
        if let Err(panic) = std::panic::catch_unwind(|| body(&data)) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {why}", input.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} inputs break the target's properties:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
    // An empty seed list would make this test pass vacuously.
    assert!(inputs.len() >= 3, "{name}: only {} inputs", inputs.len());
}

#[test]
fn policy_inputs_keep_the_engine_properties() {
    replay("policy");
}

#[test]
fn arn_inputs_keep_the_parser_properties() {
    replay("arn");
}

#[test]
fn config_inputs_resolve_or_are_refused() {
    replay("config");
}

#[test]
fn trust_inputs_keep_the_comparison_properties() {
    replay("trust");
}

#[test]
fn bundle_inputs_replay_or_are_refused() {
    replay("bundle");
}

/// Every fuzz target has seeds and a body here, so none escapes the replay.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest =
        std::fs::read_to_string(repo().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "aoc-preflight-fuzz")
        .collect();
    let listed: Vec<String> = seed_dirs().into_iter().map(|(target, _)| target).collect();
    assert_eq!(
        bins, listed,
        "fuzz/Cargo.toml and fuzz/seed-dirs.txt list the same targets"
    );
    for target in bins {
        let _ = body(target);
    }
}
