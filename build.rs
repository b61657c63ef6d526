//! Compiles proto/ with protox (no system protoc) into prost/tonic code, and
//! writes the descriptor set that reflection and the transcoder read. Also
//! sets LONGRUN_VERSION, what `longrun --version` prints: the crate version,
//! plus the git revision when built from a checkout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// Ours, plus every well-known type a response or metadata `Any` may hold
/// (protox ships them): the JSON mapping can only render what the
/// registry knows, and users send `Struct` or `StringValue` without
/// registering anything.
const PROTOS: &[&str] = &[
    "google/protobuf/any.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/wrappers.proto",
    "google/longrunning/operations.proto",
    "google/rpc/code.proto",
    "google/rpc/error_details.proto",
    "longrun/v1/control.proto",
    "longrun/v1/metadata.proto",
];

/// Names the revision when there is no checkout to ask (container builds).
const REVISION_VAR: &str = "LONGRUN_REVISION";

/// What goes into the binary. The `-dirty` mark looks at these only, and
/// they are watched, so a change that rebuilds the crate also refreshes
/// the mark (a README edit neither rebuilds nor marks).
const SOURCES: &[&str] = &[
    "build.rs",
    "Cargo.lock",
    "Cargo.toml",
    "config",
    "proto",
    "src",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    // A missing watched path would re-run this script on every build.
    for source in SOURCES.iter().filter(|s| manifest_dir.join(s).exists()) {
        println!("cargo:rerun-if-changed={source}");
    }
    println!("cargo:rustc-env=LONGRUN_VERSION={}", version(&manifest_dir));

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(false);
    compiler.open_files(PROTOS)?;
    // encode_file_descriptor_set keeps extension options such as
    // google.api.http, which a re-encode of the prost FileDescriptorSet drops.
    fs::write(
        out_dir.join("longrun_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

/// `0.1.0 (1a2b3c4)`, `0.1.0 (1a2b3c4-dirty)`, or `0.1.0` when there is no
/// git or no checkout (a source tarball): a build never fails for want of git.
fn version(manifest_dir: &Path) -> String {
    let crate_version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    match revision(manifest_dir) {
        Some(revision) => format!("{crate_version} ({revision})"),
        None => crate_version,
    }
}

fn revision(manifest_dir: &Path) -> Option<String> {
    // A build without the checkout (a container build, whose context leaves
    // .git out) is told the revision by whoever has it.
    println!("cargo:rerun-if-env-changed={REVISION_VAR}");
    if let Some(given) = env::var(REVISION_VAR).ok().filter(|r| !r.trim().is_empty()) {
        return Some(given.trim().to_owned());
    }
    // A tarball unpacked inside some other repository must not take that
    // repository's revision: the checkout's top must be this crate.
    let top = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    if fs::canonicalize(top).ok()? != fs::canonicalize(manifest_dir).ok()? {
        return None;
    }
    watch_head(manifest_dir);
    let hash = git(manifest_dir, &["rev-parse", "--short", "HEAD"])?;
    let mut status = vec!["--no-optional-locks", "status", "--porcelain", "--"];
    status.extend_from_slice(SOURCES);
    let dirty = !git(manifest_dir, &status)?.is_empty();
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// Re-runs this script when HEAD moves: a commit, checkout, reset or merge
/// writes HEAD's reflog, a branch switch writes HEAD, and the branch's ref
/// file (or packed-refs) holds the commit. In a worktree `.git` is a file:
/// HEAD and its log live in the worktree's git dir, refs in the common one.
fn watch_head(manifest_dir: &Path) {
    let dir = |flag: &str| git(manifest_dir, &["rev-parse", flag]).map(|d| manifest_dir.join(d));
    let (Some(git_dir), Some(common_dir)) = (dir("--git-dir"), dir("--git-common-dir")) else {
        return;
    };
    let mut watched = vec![git_dir.join("HEAD"), git_dir.join("logs/HEAD")];
    if let Some(branch) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(common_dir.join(branch));
    }
    watched.push(common_dir.join("packed-refs"));
    for path in watched.iter().filter(|path| path.is_file()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Trimmed stdout of a successful `git` run in `dir`; `None` on any failure.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_owned())
}
