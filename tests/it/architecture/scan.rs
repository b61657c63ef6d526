//! Reads the crate's sources the way the compiler finds them (from
//! `src/lib.rs`, following each `mod` declaration) and lists every path the
//! code names: in `use` items, in code and types, inside macro calls and
//! attributes. Each path is resolved as far as the source alone allows: to
//! a module of this crate (`crate::`, `self::`, `super::` counted up) or to an
//! outside crate named in Cargo.toml. Names a file brings in with `use`, or
//! declares with `mod`, are its own and are not followed further: the `use`
//! that brought them in is already on the list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// Where a path leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A path inside this crate, from its root: `["store", "SqliteStore"]`.
    Crate(Vec<String>),
    /// An outside crate, by the name code uses for it (`tonic`, `std`).
    External(String),
}

/// One path the code names.
#[derive(Clone, Debug)]
pub struct Reference {
    pub file: PathBuf,
    pub line: usize,
    /// The module the code is in, from the crate root: `["grpc", "status"]`.
    pub module: Vec<String>,
    /// The path as written: `super::super::store::StoreError`.
    pub written: String,
    pub target: Target,
    /// Inside `#[cfg(test)]` or `#[test]` code, or a file only such code loads.
    pub test_only: bool,
}

/// What one file names, and the files its `mod` declarations load.
pub struct FileScan {
    pub references: Vec<Reference>,
    pub children: Vec<Child>,
}

/// A `mod name;` declaration: a file to read next.
pub struct Child {
    pub module: Vec<String>,
    /// Inline modules (`mod a { mod name; }`) between the file and the declaration.
    pub inline: Vec<String>,
    pub test_only: bool,
}

/// The whole crate: every reference, and every file read.
pub struct CrateScan {
    pub references: Vec<Reference>,
    pub files: Vec<PathBuf>,
}

/// Reads the library crate rooted at `root/src/lib.rs`. `crates` are the
/// names of the outside crates code may name (Cargo.toml's dependencies).
pub fn scan_crate(root: &Path, crates: &BTreeSet<String>) -> Result<CrateScan, String> {
    let mut pending = vec![(PathBuf::from("src/lib.rs"), Vec::new(), false)];
    let mut scan = CrateScan {
        references: Vec::new(),
        files: Vec::new(),
    };
    while let Some((file, module, test_only)) = pending.pop() {
        let text = std::fs::read_to_string(root.join(&file))
            .map_err(|err| format!("{}: {err}", file.display()))?;
        let found = scan_file(&file, &text, &module, crates, test_only)?;
        for child in found.children {
            let path = child_file(root, &file, &child)?;
            pending.push((path, child.module, child.test_only));
        }
        scan.references.extend(found.references);
        scan.files.push(file);
    }
    Ok(scan)
}

/// The file a `mod` declaration in `parent` loads: `name.rs`, or
/// `name/mod.rs`, in the folder of the declaring module.
fn child_file(root: &Path, parent: &Path, child: &Child) -> Result<PathBuf, String> {
    let folder = parent.parent().unwrap_or(Path::new(""));
    let stem = parent
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("");
    let mut dir = match stem {
        "lib" | "main" | "mod" => folder.to_path_buf(),
        _ => folder.join(stem),
    };
    dir.extend(&child.inline);
    let name = child.module.last().map(String::as_str).unwrap_or("");
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|path| root.join(path).is_file())
    .ok_or_else(|| format!("{}: no file for `mod {name}`", parent.display()))
}

/// Reads one file of the module `module`.
pub fn scan_file(
    file: &Path,
    text: &str,
    module: &[String],
    crates: &BTreeSet<String>,
    test_only: bool,
) -> Result<FileScan, String> {
    let syntax = syn::parse_file(text)
        .map_err(|err| format!("{}: does not parse: {err}", file.display()))?;
    let mut locals = Locals::default();
    locals.visit_file(&syntax);
    let mut collector = Collector {
        file,
        crates,
        locals: locals.names,
        module: module.to_vec(),
        inline: Vec::new(),
        tests: usize::from(test_only),
        qualified: None,
        references: Vec::new(),
        children: Vec::new(),
        errors: Vec::new(),
    };
    collector.visit_file(&syntax);
    if !collector.errors.is_empty() {
        return Err(collector.errors.join("\n"));
    }
    Ok(FileScan {
        references: collector.references,
        children: collector.children,
    })
}

/// The names a file brings into scope with `use` or declares with `mod`.
#[derive(Default)]
struct Locals {
    names: BTreeSet<String>,
}

impl Visit<'_> for Locals {
    fn visit_use_name(&mut self, name: &syn::UseName) {
        self.names.insert(name.ident.to_string());
    }

    fn visit_use_rename(&mut self, rename: &syn::UseRename) {
        self.names.insert(rename.rename.to_string());
    }

    fn visit_item_mod(&mut self, item: &syn::ItemMod) {
        self.names.insert(item.ident.to_string());
        visit::visit_item_mod(self, item);
    }
}

struct Collector<'a> {
    file: &'a Path,
    crates: &'a BTreeSet<String>,
    locals: BTreeSet<String>,
    module: Vec<String>,
    inline: Vec<String>,
    /// How many test-only scopes the visitor is inside.
    tests: usize,
    /// Set between a `<T as Trait>` and the path it qualifies: the
    /// number of that path's segments that name the trait.
    qualified: Option<usize>,
    references: Vec<Reference>,
    children: Vec<Child>,
    errors: Vec<String>,
}

impl Collector<'_> {
    /// Records the path `segments` (after a leading `::` if `absolute`).
    fn record(&mut self, absolute: bool, segments: &[String], line: usize) {
        let Some(first) = segments.first() else {
            return;
        };
        let rest = || segments[1..].to_vec();
        let target = if absolute {
            Target::External(first.clone())
        } else {
            match first.as_str() {
                "crate" => Target::Crate(rest()),
                "self" => Target::Crate([self.module.clone(), rest()].concat()),
                "super" => {
                    let ups = segments.iter().take_while(|s| *s == "super").count();
                    let Some(kept) = self.module.len().checked_sub(ups) else {
                        self.errors.push(format!(
                            "{}:{line}: `{}` goes above the crate root",
                            self.file.display(),
                            segments.join("::")
                        ));
                        return;
                    };
                    Target::Crate([&self.module[..kept], &segments[ups..]].concat())
                }
                name if self.locals.contains(name) => return,
                name if self.crates.contains(name) => Target::External(name.to_owned()),
                _ => return,
            }
        };
        self.references.push(Reference {
            file: self.file.to_path_buf(),
            line,
            module: self.module.clone(),
            written: format!(
                "{}{}",
                if absolute { "::" } else { "" },
                segments.join("::")
            ),
            target,
            test_only: self.tests > 0,
        });
    }

    /// Paths inside tokens syn leaves unparsed: macro arguments and
    /// attribute arguments (`format!("{}", tonic::Code::Ok)`,
    /// `#[derive(thiserror::Error)]`).
    fn record_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut at = 0;
        while at < tokens.len() {
            match &tokens[at] {
                TokenTree::Group(group) => {
                    self.record_tokens(group.stream());
                    at += 1;
                }
                // `<T as Trait>::item` and `Vec::<u8>::new` go on from a
                // type, not from the root: skip what follows.
                TokenTree::Punct(p)
                    if p.as_char() == '>' && is_path_separator(&tokens[at + 1..]) =>
                {
                    at = read_path(&tokens, at + 3).1;
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) | TokenTree::Literal(_) => {
                    let absolute = is_path_separator(&tokens[at..]);
                    let start = if absolute { at + 2 } else { at };
                    let (segments, next) = read_path(&tokens, start);
                    if segments.len() > 1 || (absolute && !segments.is_empty()) {
                        let line = tokens[start].span().start().line;
                        self.record(absolute, &segments, line);
                    }
                    at = next.max(at + 1);
                }
            }
        }
    }
}

/// The identifiers `a::b::c` from `start`, and the index after them.
fn read_path(tokens: &[TokenTree], start: usize) -> (Vec<String>, usize) {
    let mut segments = Vec::new();
    let mut next = start;
    while let Some(TokenTree::Ident(ident)) = tokens.get(next) {
        segments.push(ident.to_string());
        next += 1;
        if !is_path_separator(&tokens[next..]) {
            break;
        }
        next += 2;
    }
    (segments, next)
}

/// `::` at the start of `tokens`.
fn is_path_separator(tokens: &[TokenTree]) -> bool {
    matches!(
        tokens,
        [TokenTree::Punct(a), TokenTree::Punct(b), ..]
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let test = is_test_only(item_attrs(item));
        self.tests += usize::from(test);
        visit::visit_item(self, item);
        self.tests -= usize::from(test);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            if attr.path().is_ident("path") {
                self.errors.push(format!(
                    "{}:{}: `#[path]` on `mod {}`: the checker does not follow it",
                    self.file.display(),
                    attr.span().start().line,
                    item.ident
                ));
            }
            self.visit_attribute(attr);
        }
        let name = item.ident.to_string();
        let module = [self.module.clone(), vec![name.clone()]].concat();
        match &item.content {
            Some((_, items)) => {
                let outer = std::mem::replace(&mut self.module, module);
                self.inline.push(name);
                for item in items {
                    self.visit_item(item);
                }
                self.inline.pop();
                self.module = outer;
            }
            None => self.children.push(Child {
                module,
                inline: self.inline.clone(),
                test_only: self.tests > 0,
            }),
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        let mut paths = Vec::new();
        flatten(&item.tree, &mut Vec::new(), &mut paths);
        for (segments, line) in paths {
            self.record(item.leading_colon.is_some(), &segments, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        // `<[u8; 32]>::try_from` goes on from a type: its path is not one
        // from the root, though syn writes it with a leading `::`.
        let from_type = self.qualified.take() == Some(0);
        // A lone name in code is a local (a variable `bytes`), never a crate.
        if !from_type && (segments.len() > 1 || path.leading_colon.is_some()) {
            self.record(
                path.leading_colon.is_some(),
                &segments,
                path.span().start().line,
            );
        }
        visit::visit_path(self, path);
    }

    fn visit_qself(&mut self, qself: &'ast syn::QSelf) {
        visit::visit_qself(self, qself);
        // The path that follows is the qualified one.
        self.qualified = Some(qself.position);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.record_tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if let syn::Meta::List(list) = &attr.meta {
            self.record_tokens(list.tokens.clone());
        }
        visit::visit_attribute(self, attr);
    }
}

/// Every path a `use` tree imports, with the line it is on:
/// `use a::{b, c::d, self}` is `a::b`, `a::c::d` and `a`.
fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
    let line = tree.span().start().line;
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            flatten(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) if name.ident == "self" => out.push((prefix.clone(), line)),
        syn::UseTree::Name(syn::UseName { ident })
        | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
            out.push(([prefix.clone(), vec![ident.to_string()]].concat(), line));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), line)),
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                flatten(tree, prefix, out);
            }
        }
    }
}

/// `#[cfg(test)]`, `#[cfg(all(test, ...))]`, `#[test]`, `#[tokio::test]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path
            .segments
            .last()
            .is_some_and(|last| last.ident == "test")
        {
            return true;
        }
        path.is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| cfg_needs_test(&meta))
    })
}

/// Whether a cfg predicate holds only when compiling tests.
fn cfg_needs_test(meta: &syn::Meta) -> bool {
    match meta {
        syn::Meta::Path(path) => path.is_ident("test"),
        syn::Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|all| all.iter().any(cfg_needs_test)),
        syn::Meta::List(_) | syn::Meta::NameValue(_) => false,
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item;
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        // syn's enum is non-exhaustive: an item kind syn adds later has no
        // attributes we know to read.
        Item::Verbatim(_) | _ => &[],
    }
}
