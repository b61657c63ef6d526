//! `longrun completions SHELL` and `longrun man`: shell completion scripts
//! and roff man pages, both made from the clap `Command` the binary parses,
//! so they cannot drift from the flags.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

use super::Cli;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The subcommand whose page to print, e.g. `serve` or `operations get`
    /// [default: longrun itself].
    #[arg(value_name = "SUBCOMMAND")]
    pub path: Vec<String>,

    /// Write a page for longrun and one for every subcommand into this
    /// directory (created if missing): longrun.1, longrun-serve.1, ...;
    /// prints the files written.
    #[arg(long, value_name = "DIR", conflicts_with = "path")]
    pub out_dir: Option<PathBuf>,
}

/// The script that `source <(longrun completions bash)` and its kin read.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "longrun", &mut script);
    script
}

/// The command tree as the pages describe it: built (so subcommands carry
/// their full names, `longrun-operations-get`), without the `help`
/// subcommand, which has no page of its own.
fn built_command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// Every page names the same source, `longrun VERSION`, as packagers and
/// `man` expect; clap_mangen would name the subcommand instead.
fn page(command: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(command)
        .source(format!("longrun {}", env!("LONGRUN_VERSION")))
        .manual("longrun manual")
}

/// The roff page of longrun, or of the subcommand `path` names.
pub fn man_page(path: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut command = built_command();
    for (depth, name) in path.iter().enumerate() {
        let Some(sub) = command.find_subcommand(name).cloned() else {
            let parent = std::iter::once("longrun")
                .chain(path[..depth].iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            bail!(
                "no subcommand {:?}: see `{parent} --help`",
                path[..=depth].join(" ")
            );
        };
        command = sub;
    }
    let mut bytes = Vec::new();
    page(command).render(&mut bytes)?;
    Ok(bytes)
}

/// Writes the page of `command` and of each of its visible subcommands
/// into `dir`; returns the files written, parents first.
fn write_pages(command: clap::Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .cloned()
        .collect();
    let mut written = vec![page(command).generate_to(dir)?];
    for sub in subcommands {
        written.extend(write_pages(sub, dir)?);
    }
    Ok(written)
}

pub fn run_man(args: &ManArgs) -> anyhow::Result<()> {
    let Some(dir) = &args.out_dir else {
        return super::write_stdout(&man_page(&args.path)?);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let written = write_pages(built_command(), dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
    let mut list = String::new();
    for path in written {
        list.push_str(&format!("{}\n", path.display()));
    }
    super::write_stdout(list.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn completions_for_each_shell_name_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = text(completions(shell));
            for sub in ["serve", "operations", "completions", "man", "keygen"] {
                assert!(script.contains(sub), "{shell}: no {sub}");
            }
            assert!(script.contains("--descriptor-set"), "{shell}: no flags");
        }
    }

    #[test]
    fn man_page_of_a_nested_subcommand_has_its_full_name_and_flags() {
        let page = text(man_page(&["operations".into(), "list".into()]).expect("page"));
        assert!(page.starts_with(".ie"), "not roff: {}", &page[..40]);
        assert!(page.contains(".TH longrun-operations-list 1"), "{page}");
        assert!(page.contains("page\\-size"), "{page}");
    }

    #[test]
    fn man_page_of_an_unknown_subcommand_names_it() {
        let err = man_page(&["operations".into(), "frobnicate".into()]).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            r#"no subcommand "operations frobnicate": see `longrun operations --help`"#
        );
        let err = man_page(&["nope".into()]).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            r#"no subcommand "nope": see `longrun --help`"#
        );
    }

    #[test]
    fn man_pages_cover_every_subcommand_but_help() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_pages(built_command(), dir.path()).expect("written");
        let names: Vec<String> = written
            .iter()
            .map(|path| {
                assert_eq!(path.parent(), Some(dir.path()));
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names.first().map(String::as_str), Some("longrun.1"));
        for expected in [
            "longrun-serve.1",
            "longrun-operations-get.1",
            "longrun-token-mint.1",
            "longrun-man.1",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        let on_disk = std::fs::read_dir(dir.path()).expect("listed").count();
        assert_eq!(on_disk, names.len());
        let serve = std::fs::read_to_string(dir.path().join("longrun-serve.1")).expect("read");
        assert!(serve.contains("LONGRUN_LISTEN"), "env vars on the page");
        assert!(
            serve.contains(env!("LONGRUN_VERSION")),
            "version on the page"
        );
    }
}
