//! What the binary says about itself: `--version` (with the git revision in
//! a checkout), shell completions that the shells accept, and man pages.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn longrun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("longrun runs")
}

/// stdout of a run that must succeed.
fn stdout_of(args: &[&str]) -> String {
    let output = longrun(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// `git` in the crate's directory, when git is there and the crate is the
/// top of a checkout (not a tarball inside some other repository).
fn git(args: &[&str]) -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let run = |args: &[&str]| {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let top = run(&["rev-parse", "--show-toplevel"])?;
    let same = std::fs::canonicalize(top).ok()? == std::fs::canonicalize(dir).ok()?;
    if !same {
        return None;
    }
    run(args)
}

#[test]
fn version_names_the_crate_version_and_the_checkouts_revision() {
    let expected_prefix = format!("longrun {}", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let printed = stdout_of(&[flag]);
        let line = printed.trim_end();
        let rest = line
            .strip_prefix(&expected_prefix)
            .unwrap_or_else(|| panic!("{flag}: {line:?}"));
        match git(&["rev-parse", "HEAD"]) {
            Some(head) => {
                let revision = rest
                    .strip_prefix(" (")
                    .and_then(|r| r.strip_suffix(')'))
                    .unwrap_or_else(|| panic!("{flag}: no revision in {line:?}"));
                let hash = revision.strip_suffix("-dirty").unwrap_or(revision);
                assert!(hash.len() >= 7, "{line:?}");
                assert!(head.starts_with(hash), "{line:?} is not HEAD {head}");
            }
            None => assert_eq!(rest, "", "no checkout, no revision: {line:?}"),
        }
    }
}

#[test]
fn completions_for_each_shell_mention_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        for sub in [
            "serve",
            "migrate",
            "openapi",
            "operations",
            "token",
            "completions",
            "man",
        ] {
            assert!(script.contains(sub), "{shell} script lacks {sub}");
        }
        assert!(script.contains("control-listen"), "{shell}: no flags");
    }
    assert!(!longrun(&["completions", "tcsh"]).status.success());
}

/// The shell itself parses the script, when it is installed.
#[test]
fn completion_scripts_parse_in_their_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("longrun.completion");
        std::fs::write(&file, script).expect("written");
        let checked = Command::new(shell)
            .arg("-n")
            .arg(&file)
            .stdin(Stdio::null())
            .output();
        // A shell that is not installed cannot check its script.
        let Ok(checked) = checked else {
            eprintln!("skipped: {shell} is not installed");
            continue;
        };
        assert!(
            checked.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
    }
}

#[test]
fn man_page_is_roff_listing_subcommands_and_options() {
    let page = stdout_of(&["man"]);
    assert!(page.contains("\n.TH longrun 1 "), "{page}");
    assert!(page.contains("\n.SH SUBCOMMANDS\n"), "{page}");
    for sub in ["serve", "operations", "token", "completions", "man"] {
        assert!(
            page.contains(&format!("longrun\\-{sub}(1)")),
            "{sub}: {page}"
        );
    }
    assert!(page.contains("\\-\\-version"), "{page}");

    let serve = stdout_of(&["man", "serve"]);
    assert!(serve.contains("\n.TH longrun-serve 1 "), "{serve}");
    for flag in [
        "listen",
        "control\\-listen",
        "database",
        "descriptor\\-set",
        "policy",
    ] {
        assert!(
            serve.contains(&format!("\\fB\\-\\-{flag}\\fR")),
            "{flag}: {serve}"
        );
    }
    assert!(serve.contains("LONGRUN_DATABASE"), "{serve}");

    let unknown = longrun(&["man", "frobnicate"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no subcommand \"frobnicate\""));
}

#[test]
fn man_out_dir_writes_and_lists_a_page_per_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("share/man/man1");
    let listed = stdout_of(&["man", "--out-dir", out.to_str().expect("utf-8 path")]);
    let listed: Vec<&Path> = listed.lines().map(Path::new).collect();
    let on_disk = std::fs::read_dir(&out).expect("created").count();
    assert_eq!(listed.len(), on_disk);
    for page in ["longrun.1", "longrun-serve.1", "longrun-operations-wait.1"] {
        let path = out.join(page);
        assert!(listed.contains(&path.as_path()), "{page} in {listed:?}");
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(text.contains(".SH NAME"), "{page}");
    }
}

/// `longrun man | head` and the like: a reader that went away is not a
/// failure, and a full disk is an error, never a panic.
#[test]
fn output_to_a_closed_pipe_or_a_full_device_does_not_panic() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let closed = Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args(["completions", "bash"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    assert!(closed.status.success(), "{closed:?}");
    assert!(closed.stderr.is_empty(), "{closed:?}");

    let Ok(full) = std::fs::File::create("/dev/full") else {
        return;
    };
    let failed = Command::new(env!("CARGO_BIN_EXE_longrun"))
        .arg("man")
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write to stdout"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn refused_start_says_why_once_and_logs_without_colour_codes() {
    let output = longrun(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--control-listen",
        "127.0.0.1:0",
        "--database",
        "sqlite::memory:",
        "--default-metadata-type",
        "myapi.v1.OperationMetadata",
    ]);
    assert!(!output.status.success(), "an unknown type must be refused");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("longrun: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert_eq!(
        error.matches("myapi.v1.OperationMetadata").count(),
        1,
        "the cause is printed once: {error}"
    );
    assert!(
        stderr.contains("no authentication"),
        "the start-up warning was logged: {stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "no escape codes when stderr is not a terminal: {stderr:?}"
    );
}
