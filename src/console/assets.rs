//! The console's files, embedded at compile time, each with its content
//! type and an ETag made once from its bytes.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

pub struct Asset {
    /// The path below `/console/`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// A strong validator: the asset's SHA-256, quoted.
    pub etag: String,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! files {
    ($(($path:literal, $content_type:expr)),* $(,)?) => {
        &[$(($path, $content_type, include_bytes!(concat!("web/", $path)))),*]
    };
}

/// Every file under `src/console/web` (a test checks that none is left out).
static FILES: &[(&str, &str, &[u8])] = files![
    ("index.html", HTML),
    ("style.css", CSS),
    ("favicon.svg", SVG),
    ("app.js", JS),
    ("api.js", JS),
    ("format.js", JS),
    ("html.js", JS),
    ("router.js", JS),
    ("components.js", JS),
    ("list.js", JS),
    ("detail.js", JS),
    ("actions.js", JS),
    ("token.js", JS),
    ("vendor/preact.mjs", JS),
    ("vendor/hooks.mjs", JS),
    ("vendor/htm.mjs", JS),
    ("vendor/LICENSE-preact.txt", TEXT),
    ("vendor/LICENSE-htm.txt", TEXT),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(path, content_type, bytes)| Asset {
            path,
            content_type,
            bytes,
            etag: etag(bytes),
        })
        .collect()
});

fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The asset at `path` below `/console/`; the empty path is the page itself.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    ASSETS.iter().find(|asset| asset.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_on_disk(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("web dir readable") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            if entry.file_type().expect("type").is_dir() {
                files_on_disk(&entry.path(), &format!("{path}/"), out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_file_in_the_web_folder_is_embedded_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/web");
        let mut on_disk = Vec::new();
        files_on_disk(&dir, "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|f| f.0.to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn empty_path_is_the_page_and_unknown_paths_are_none() {
        assert_eq!(find("").map(|a| a.path), Some("index.html"));
        assert!(find("app.js").is_some_and(|a| a.content_type.starts_with("text/javascript")));
        assert!(find("nope.js").is_none());
        assert!(find("vendor").is_none());
        assert!(find("../Cargo.toml").is_none());
    }

    #[test]
    fn etags_are_quoted_and_differ_between_files() {
        let page = find("").expect("page");
        let script = find("app.js").expect("script");
        assert!(page.etag.starts_with('"') && page.etag.ends_with('"'));
        assert_eq!(page.etag.len(), 34);
        assert_ne!(page.etag, script.etag);
    }
}
