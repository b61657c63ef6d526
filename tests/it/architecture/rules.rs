//! The dependency table: what each top-level module of the crate owns and
//! what its code may name. This is the one copy that is checked; `src/lib.rs`
//! and docs/architecture.md print it (`render` writes it as they hold it).

use super::scan::{Reference, Target};

/// What the code of one top-level module may name.
pub struct Rule {
    pub modules: &'static [&'static str],
    pub owns: &'static str,
    /// The other modules of the crate it may use; `None`: any.
    pub uses: Option<&'static [&'static str]>,
    /// Paths inside those that it still may not use.
    pub not_paths: &'static [&'static str],
    pub crates: Crates,
}

/// The outside crates a module may name. std, core and alloc are always allowed.
pub enum Crates {
    Any,
    /// Only these (each exactly, not its family).
    Only(&'static [&'static str]),
    /// Not these, nor any crate of their family (`http` also means `http_body`).
    Not(&'static [&'static str]),
}

const CONCRETE_STORES: &[&str] = &[
    "store::sqlite",
    "store::postgres",
    "store::SqliteStore",
    "store::PgStore",
    "store::PgSettings",
    "store::CachedStore",
];

pub const RULES: &[Rule] = &[
    Rule {
        modules: &["domain"],
        owns: "states, transitions, names, filters, `ErrorKind`",
        uses: Some(&[]),
        not_paths: &[],
        crates: Crates::Only(&["thiserror", "serde", "base64"]),
    },
    Rule {
        modules: &["store"],
        owns: "persistence, migrations, backends",
        uses: Some(&["domain", "observe"]),
        not_paths: &[],
        crates: Crates::Not(&[
            "tonic",
            "http",
            "hyper",
            "prometheus_client",
            "opentelemetry",
            "tracing_opentelemetry",
        ]),
    },
    Rule {
        modules: &["service"],
        owns: "use cases, authorization calls, wakeups, timers",
        uses: Some(&["domain", "store", "auth", "registry", "observe"]),
        not_paths: CONCRETE_STORES,
        crates: Crates::Not(&[
            "tonic",
            "http",
            "hyper",
            "sqlx",
            "prometheus_client",
            "opentelemetry",
            "tracing_opentelemetry",
        ]),
    },
    Rule {
        modules: &["auth"],
        owns: "tokens, principals, scopes, policy, access passes (`authorize_*`)",
        uses: Some(&["domain", "observe"]),
        not_paths: &[],
        crates: Crates::Not(&["tonic", "sqlx"]),
    },
    Rule {
        modules: &["grpc"],
        owns: "generated-trait impls, pb <-> domain, the one Code table",
        uses: Some(&["domain", "service", "auth", "pb"]),
        not_paths: &[],
        crates: Crates::Not(&["sqlx"]),
    },
    Rule {
        modules: &["transcode"],
        owns: "REST routing, JSON mapping, the Code -> HTTP table",
        uses: Some(&["pb", "registry"]),
        not_paths: &[],
        crates: Crates::Not(&["sqlx"]),
    },
    Rule {
        modules: &["registry"],
        owns: "the message types known at run time (descriptor pool)",
        uses: Some(&["pb"]),
        not_paths: &[],
        crates: Crates::Not(&["tonic", "sqlx"]),
    },
    // The recorder handle is neutral ground: the layers that report events
    // (store, service, auth) may take it, and it names nothing, so taking it
    // brings no metrics crate and no telemetry code into them. It also says
    // whether to open trace spans, which they do with `tracing` alone.
    Rule {
        modules: &["observe"],
        owns: "the events layers report, and the `Recorder` handle they report through",
        uses: Some(&[]),
        not_paths: &[],
        crates: Crates::Only(&[]),
    },
    Rule {
        modules: &["telemetry"],
        owns: "metrics: their families, the per-call layer, the `/metrics` listener; traces: the per-call span layers, the OTLP export",
        uses: Some(&["observe"]),
        not_paths: &[],
        crates: Crates::Not(&["sqlx"]),
    },
    Rule {
        modules: &["pb"],
        owns: "the generated protobuf and gRPC code (in OUT_DIR)",
        uses: Some(&[]),
        not_paths: &[],
        crates: Crates::Any,
    },
    Rule {
        modules: &["server"],
        owns: "wiring, listeners, limits, lifecycle",
        uses: None,
        not_paths: &[],
        crates: Crates::Any,
    },
    Rule {
        modules: &["embed"],
        owns: "the library face for other tonic servers",
        uses: None,
        not_paths: &[],
        crates: Crates::Any,
    },
    Rule {
        modules: &["console"],
        owns: "the web console's embedded files and their HTTP answers",
        uses: Some(&[]),
        not_paths: &[],
        crates: Crates::Any,
    },
    Rule {
        modules: &["cli", "config"],
        owns: "command line, flags -> typed settings",
        uses: None,
        not_paths: &[],
        crates: Crates::Any,
    },
];

const ALWAYS: &[&str] = &["std", "core", "alloc"];

/// What the non-test references break, one line each:
/// `src/domain/x.rs:3: `tonic::Status`: `domain` may not use `tonic``.
pub fn violations(references: &[Reference]) -> Vec<String> {
    references
        .iter()
        .filter(|reference| !reference.test_only)
        .filter_map(|reference| {
            // The crate root itself only declares the modules.
            let top = reference.module.first()?;
            let why = match RULES
                .iter()
                .find(|rule| rule.modules.contains(&top.as_str()))
            {
                None => Some(format!("module `{top}` is not in the dependency table")),
                Some(rule) => rule.refuses(top, &reference.target),
            }?;
            Some(format!(
                "{}:{}: `{}`: {why}",
                reference.file.display(),
                reference.line,
                reference.written
            ))
        })
        .collect()
}

impl Rule {
    fn refuses(&self, top: &str, target: &Target) -> Option<String> {
        match target {
            Target::Crate(path) => {
                let first = path.first()?;
                if first == top {
                    return None;
                }
                if let Some(uses) = self.uses
                    && !uses.contains(&first.as_str())
                {
                    return Some(format!("`{top}` may not use `crate::{first}`"));
                }
                let joined = path.join("::");
                self.not_paths
                    .iter()
                    .find(|banned| joined == **banned || joined.starts_with(&format!("{banned}::")))
                    .map(|banned| format!("`{top}` may not use `crate::{banned}`"))
            }
            Target::External(name) => match self.crates {
                Crates::Any => None,
                Crates::Only(allowed) => (!ALWAYS.contains(&name.as_str())
                    && !allowed.contains(&name.as_str()))
                .then(|| format!("`{top}` may use no crate but std, {}", quoted(allowed))),
                Crates::Not(banned) => banned
                    .iter()
                    .find(|banned| name == *banned || name.starts_with(&format!("{banned}_")))
                    .map(|_| format!("`{top}` may not use `{name}`")),
            },
        }
    }
}

/// The table as `src/lib.rs` (after `//! `) and docs/architecture.md hold it.
pub fn render() -> String {
    let mut lines = vec![
        "| module | owns | may use of the crate | must not use |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    for rule in RULES {
        let uses = match rule.uses {
            None => "any module".to_owned(),
            Some([]) => "nothing".to_owned(),
            Some(uses) if rule.not_paths.is_empty() => quoted(uses),
            Some(uses) => format!("{}, but not {}", quoted(uses), quoted(rule.not_paths)),
        };
        let crates = match rule.crates {
            Crates::Any => "—".to_owned(),
            Crates::Only([]) => "any crate but std".to_owned(),
            Crates::Only(allowed) => format!("any crate but std, {}", quoted(allowed)),
            Crates::Not(banned) => quoted(banned),
        };
        let modules = quoted(rule.modules);
        lines.push(format!("| {modules} | {} | {uses} | {crates} |", rule.owns));
    }
    lines.join("\n")
}

fn quoted(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    names.join(", ")
}
