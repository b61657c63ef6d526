//! The house checks itself: the code follows the dependency table
//! (`architecture/rules.rs`, printed in `src/lib.rs` and
//! docs/architecture.md), every file of the crate is one the compiler
//! reads, and every Rust file opens with a `//!` line saying its job.
//!
//! Test code (`#[cfg(test)]` and `#[test]` items, and the files only they
//! load) is not held to the table: it is built into test binaries only, and
//! a test may make its input from any layer (grpc's code table test makes a
//! store error to prove its text is hidden).

mod rules;
mod scan;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scan::Target;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|err| panic!("{relative}: {err}"))
}

/// The names code may use for outside crates: std's three and every
/// dependency in Cargo.toml (`tonic-web` is `tonic_web`).
fn crate_names() -> BTreeSet<String> {
    let manifest: toml_edit::DocumentMut = read("Cargo.toml").parse().expect("Cargo.toml parses");
    let mut names: BTreeSet<String> = ["std", "core", "alloc"].map(String::from).into();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(table) = manifest.get(section).and_then(|item| item.as_table_like()) {
            names.extend(table.iter().map(|(name, _)| name.replace('-', "_")));
        }
    }
    names
}

fn scan_crate() -> scan::CrateScan {
    scan::scan_crate(root(), &crate_names()).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn source_follows_the_dependency_table() {
    let scan = scan_crate();
    let violations = rules::violations(&scan.references);
    assert!(
        violations.is_empty(),
        "code names what the dependency table (tests/it/architecture/rules.rs) forbids it:\n{}\n\
         If the code is in the right module, the table is wrong: change it there, and print \
         it again in src/lib.rs and docs/architecture.md.",
        violations.join("\n")
    );
    // The scan saw the real tree: the store names sqlx, the domain thiserror.
    for (module, name) in [
        ("store", "sqlx"),
        ("domain", "thiserror"),
        ("grpc", "tonic"),
    ] {
        assert!(
            scan.references
                .iter()
                .any(|r| r.module[0] == module && r.target == Target::External(name.into())),
            "the scan found no `{name}` in `{module}`: the checker is reading nothing"
        );
    }
}

#[test]
fn every_file_under_src_is_part_of_the_crate() {
    let read: BTreeSet<PathBuf> = scan_crate().files.into_iter().collect();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let orphans: Vec<String> = files
        .iter()
        .map(|file| {
            file.strip_prefix(root())
                .expect("under the root")
                .to_path_buf()
        })
        .filter(|file| file != Path::new("src/main.rs") && !read.contains(file))
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        orphans.is_empty(),
        "no `mod` loads these files, so nothing checks them: {orphans:?}"
    );
}

#[test]
fn dependency_table_is_printed_the_same_in_lib_rs_and_the_docs() {
    let table = rules::render();
    let lib = read("src/lib.rs");
    let crate_doc: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    let crate_doc = crate_doc.join("\n");
    for (name, text) in [
        ("src/lib.rs", crate_doc),
        ("docs/architecture.md", read("docs/architecture.md")),
    ] {
        assert!(
            text.contains(&table),
            "{name} does not print the dependency table of tests/it/architecture/rules.rs; \
             it should read:\n\n{table}\n"
        );
    }
}

#[test]
fn every_rust_file_opens_with_a_line_saying_its_job() {
    let mut files = vec![root().join("build.rs")];
    for dir in ["src", "tests", "examples"] {
        rust_files(&root().join(dir), &mut files);
    }
    let silent: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file).expect("readable");
            let first = text.lines().next().unwrap_or("");
            first
                .strip_prefix("//!")
                .is_none_or(|rest| rest.trim().is_empty())
        })
        .map(|file| {
            file.strip_prefix(root())
                .expect("under the root")
                .display()
                .to_string()
        })
        .collect();
    assert!(
        silent.is_empty(),
        "these files do not open with a `//!` line saying what they are for: {silent:?}"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The checker on sources written here, as `file` of `module`.
fn violations_in(file: &str, module: &[&str], source: &str) -> Vec<String> {
    let crates = [
        "std",
        "tonic",
        "tonic_web",
        "sqlx",
        "thiserror",
        "proptest",
        "serde",
    ]
    .map(String::from)
    .into();
    let module: Vec<String> = module.iter().map(|m| m.to_string()).collect();
    let scan = scan::scan_file(Path::new(file), source, &module, &crates, false)
        .unwrap_or_else(|err| panic!("{err}"));
    rules::violations(&scan.references)
}

#[test]
fn checker_names_file_line_and_path_of_each_forbidden_import() {
    let source = "\
//! A domain file that reaches out.
use std::fmt;
use crate::{domain::Operation, store::StoreError};
use ::tonic::Code;

fn status() -> tonic::Status {
    sqlx::query(\"select 1\");
    todo!()
}
";
    assert_eq!(
        violations_in("src/domain/bad.rs", &["domain", "bad"], source),
        [
            "src/domain/bad.rs:3: `crate::store::StoreError`: `domain` may not use `crate::store`",
            "src/domain/bad.rs:4: `::tonic::Code`: `domain` may use no crate but std, \
             `thiserror`, `serde`, `base64`",
            "src/domain/bad.rs:6: `tonic::Status`: `domain` may use no crate but std, \
             `thiserror`, `serde`, `base64`",
            "src/domain/bad.rs:7: `sqlx::query`: `domain` may use no crate but std, \
             `thiserror`, `serde`, `base64`",
        ]
    );
}

#[test]
fn checker_counts_super_up_to_the_crate_root() {
    let source = "use super::super::store::StoreError;\nuse super::convert;\n";
    assert_eq!(
        violations_in("src/grpc/status.rs", &["grpc", "status"], source),
        [
            "src/grpc/status.rs:1: `super::super::store::StoreError`: `grpc` may not use `crate::store`"
        ]
    );
}

#[test]
fn checker_sees_paths_inside_macros_and_attributes() {
    let source = "\
#[derive(Debug, sqlx::FromRow)]
struct Row;
fn f() -> String {
    format!(\"{:?}\", tonic_web::GrpcWebLayer::new())
}
";
    assert_eq!(
        violations_in("src/service/x.rs", &["service", "x"], source),
        [
            "src/service/x.rs:1: `sqlx::FromRow`: `service` may not use `sqlx`",
            "src/service/x.rs:4: `tonic_web::GrpcWebLayer::new`: `service` may not use `tonic_web`",
        ]
    );
}

#[test]
fn checker_reads_qualified_paths_from_their_trait() {
    let source = "\
fn f(bytes: &[u8]) {
    let _ = <[u8; 4]>::try_from(bytes);
    let _ = <Vec<u8> as tonic::codec::Codec>::encoder;
}
";
    assert_eq!(
        violations_in("src/domain/x.rs", &["domain", "x"], source),
        [
            "src/domain/x.rs:3: `tonic::codec::Codec::encoder`: `domain` may use no crate but std, \
          `thiserror`, `serde`, `base64`"
        ]
    );
}

#[test]
fn checker_refuses_concrete_stores_to_the_service() {
    let source = "use crate::store::{self, OperationStore, sqlite::SqliteStore};\n";
    assert_eq!(
        violations_in("src/service/x.rs", &["service", "x"], source),
        [
            "src/service/x.rs:1: `crate::store::sqlite::SqliteStore`: `service` may not use \
          `crate::store::sqlite`"
        ]
    );
}

#[test]
fn checker_leaves_test_code_and_own_names_alone() {
    let source = "\
use thiserror::Error;
mod sqlite;
fn f() { sqlite::open(); Error::new(); }
#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use crate::store::StoreError;
}
#[test]
fn t() { tonic::Code::Ok; }
";
    assert_eq!(
        violations_in("src/domain/x.rs", &["domain", "x"], source),
        Vec::<String>::new()
    );
}

#[test]
fn checker_refuses_a_module_missing_from_the_table() {
    let source = "use std::fmt;\n";
    assert_eq!(
        violations_in("src/newthing.rs", &["newthing"], source),
        ["src/newthing.rs:1: `std::fmt`: module `newthing` is not in the dependency table"]
    );
}
