//! The fuzz corpora, replayed on stable: every input under
//! fuzz/corpus/<target>/ and fuzz/regressions/<target>/ goes through the
//! same harness function the cargo-fuzz target calls (fuzz/harness/, by
//! `#[path]`), so a change that makes a fuzzer's past input panic, or turn a
//! client's mistake into INTERNAL, fails `cargo test`. A target without a
//! corpus fails too: an empty replay would pass while checking nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/harness/mod.rs"]
mod harness;

/// Inputs in `dir`, sorted (none when it does not exist).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let check = harness::TARGETS
        .iter()
        .find_map(|(name, check)| (*name == target).then_some(*check))
        .expect("a harness target");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ is missing or empty: nothing would be replayed"
    );
    let regressions = inputs(&root.join("regressions").join(target));
    let mut failed = Vec::new();
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).expect("a corpus file reads");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs of {target} fail (the panics are above): {failed:#?}",
        failed.len(),
        corpus.len() + regressions.len()
    );
}

#[test]
fn every_fuzz_target_has_a_replay() {
    let tested = [
        "router",
        "query",
        "json_body",
        "filter",
        "page_token",
        "jwt",
        "grpc_web",
    ];
    let names: Vec<&str> = harness::TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, tested);
}

#[test]
fn router_corpus_replays() {
    replay("router");
}

#[test]
fn query_corpus_replays() {
    replay("query");
}

#[test]
fn json_body_corpus_replays() {
    replay("json_body");
}

#[test]
fn filter_corpus_replays() {
    replay("filter");
}

#[test]
fn page_token_corpus_replays() {
    replay("page_token");
}

#[test]
fn jwt_corpus_replays() {
    replay("jwt");
}

#[test]
fn grpc_web_corpus_replays() {
    replay("grpc_web");
}
