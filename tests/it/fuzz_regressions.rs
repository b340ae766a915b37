//! Inputs found by fuzzing (and the hand-made ones beside them) stay tests of the
//! main build: each file in fixtures/fuzz/TARGET/ goes through the same checks the
//! fuzz target TARGET runs (fuzz/checks.rs), without libFuzzer.
//!
//! A crash found by `scripts/fuzz` is fixed, then its input is copied here from
//! fuzz/artifacts/TARGET/ (see docs/fuzzing.md).

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::PathBuf;

/// Every file of fixtures/fuzz/`target`, sorted; fails when there is none.
fn cases(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                bytes,
            )
        })
        .collect()
}

/// Run `check` on each case; report every failing file, not just the first.
fn run(target: &str, check: fn(&[u8])) {
    let failed: Vec<String> = cases(target)
        .into_iter()
        .filter_map(|(name, bytes)| {
            std::panic::catch_unwind(|| check(&bytes))
                .err()
                .map(|_| name)
        })
        .collect();
    assert!(
        failed.is_empty(),
        "fixtures/fuzz/{target}: failing cases: {failed:?}"
    );
}

#[test]
fn xml() {
    run("xml", checks::xml);
}

#[test]
fn profile() {
    run("profile", checks::profile);
}

#[test]
fn cli() {
    run("cli", checks::cli);
}

#[test]
fn cache() {
    run("cache", checks::cache);
}

#[test]
fn json() {
    run("json", checks::json);
}

#[test]
fn process_output() {
    run("process_output", checks::process_output);
}

#[test]
fn signin() {
    run("signin", checks::signin);
}

#[test]
fn login_token() {
    run("login_token", checks::login_token);
}

#[test]
fn listeners() {
    run("listeners", checks::listeners);
}
