//! The architecture's rules, checked on the source text of `src/`: which
//! top-level module may use which (see docs/ARCHITECTURE.md), that only
//! `store` names the `rusqlite` crate, and that files and functions stay
//! small enough to read. The checks read `src/` as text, with std only,
//! and each reports every violation it finds at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Who may use whom: each top-level module of `src/` and the other
/// top-level modules it may reference as `crate::NAME`. A module may always
/// use itself; `*` means any module. A module missing here fails the test.
/// `src/lib.rs` and `src/main.rs` are the crate roots, not layers.
#[rustfmt::skip]
const LAYERS: &[(&str, &[&str])] = &[
    ("error",   &[]),
    ("observe", &["error"]),
    ("types",   &["error"]),
    ("config",  &["error"]),
    ("auth",    &["error", "types"]),
    ("sql",     &["error", "types"]),
    ("plan",    &["error", "types", "sql"]),
    ("store",   &["error", "types", "sql", "config", "observe"]),
    ("cluster", &["error", "types", "sql", "plan", "store", "config", "auth", "observe"]),
    ("exec",    &["error", "types", "sql", "plan", "store", "cluster", "config", "auth", "observe"]),
    ("wire",    &["error", "types", "sql", "exec", "config", "auth", "observe"]),
    ("client",  &["error", "types", "store", "config", "auth"]),
    ("node",    &["*"]),
];

/// The crate roots: they declare the layers and are not one.
const EXEMPT_FILES: &[&str] = &["src/lib.rs", "src/main.rs"];

/// The only folder whose files may name the `rusqlite` crate.
const SQLITE_ONLY_IN: &str = "src/store/";

const MAX_FILE_LINES: usize = 800;
const MAX_FUNCTION_LINES: usize = 120;

/// Functions allowed over MAX_FUNCTION_LINES, as (path, fn name), each
/// entry with a one-line comment saying why. Only registration tables
/// belong here; an entry that is no longer long fails the check.
const LONG_FUNCTIONS_ALLOWED: &[(&str, &str)] = &[
    // A table of SQLite function registrations, one short closure each.
    ("src/store/udf/pg_catalog.rs", "register"),
];

// ---------------------------------------------------------------------------
// The checks

#[test]
fn layers_are_respected() {
    let files = read_sources(&crate_root());
    assert!(!files.is_empty(), "no .rs files found under src/");
    let violations = layer_violations(&files);
    assert!(
        violations.is_empty(),
        "{} layer violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}

#[test]
fn no_file_is_over_800_lines() {
    let long = long_files(&read_sources(&crate_root()), MAX_FILE_LINES);
    assert!(
        long.is_empty(),
        "{} file(s) over {MAX_FILE_LINES} lines:\n{}",
        long.len(),
        long.join("\n")
    );
}

#[test]
fn no_function_is_over_120_lines() {
    let files = read_sources(&crate_root());
    let long = long_functions(&files, MAX_FUNCTION_LINES, LONG_FUNCTIONS_ALLOWED);
    assert!(
        long.is_empty(),
        "{} function(s) over {MAX_FUNCTION_LINES} lines:\n{}",
        long.len(),
        long.join("\n")
    );
}

#[test]
fn layer_table_is_complete_and_acyclic() {
    let table = layer_table();
    for (module, allowed) in &table {
        for other in allowed {
            assert!(
                other == "*" || table.contains_key(other),
                "{module} may use {other}, which is not in LAYERS"
            );
            assert!(other != "node", "{module} may use node; nothing may");
        }
    }
    // A layer never reaches itself again through the modules it may use.
    for start in table.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = table[start].iter().collect();
        while let Some(m) = todo.pop() {
            assert!(m != start, "LAYERS has a cycle through {start}");
            if m != "*" && seen.insert(m.clone()) {
                todo.extend(table[m].iter());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The checks prove they can fail, on synthetic sources.

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_string(),
        text: text.to_string(),
    }
}

fn heads(refs: &[(usize, String)]) -> Vec<(usize, &str)> {
    refs.iter().map(|(l, n)| (*l, n.as_str())).collect()
}

#[test]
fn scanner_sees_inline_paths_and_grouped_uses() {
    let src = r##"//! Mentions crate::wire in a doc comment.
use crate::sql::parse;
use crate::{error::Result, store::{self, segment}};
use crate::{
    cluster,
    plan::prune,
};
/// crate::exec in a doc comment
fn f() -> String {
    let q = crate::store::segment::quote("x"); // crate::wire here is a comment
    let s = "crate::exec in a string";
    let r = r#"crate::exec in a raw string"#;
    let c = '{';
    /* crate::exec in /* a nested */ block comment */
    format!("{q}{s}{r}{c}{}", $crate::x::y())
}
mod inner {
    use super::super::wire::Session;
}
"##;
    let refs = module_references(&file("src/exec/write.rs", src));
    assert_eq!(
        heads(&refs),
        vec![
            (2, "sql"),
            (3, "error"),
            (3, "store"),
            (5, "cluster"),
            (6, "plan"),
            (10, "store"),
        ],
        "`super::super` inside `mod inner` of src/exec/write.rs is still exec"
    );

    // At the root of a top-level module `super::` is the crate root.
    let root = "use super::store::Store;\nfn g() { super::super_helper(); }\n";
    let refs = module_references(&file("src/exec/mod.rs", root));
    assert_eq!(heads(&refs), vec![(1, "store"), (2, "super_helper")]);

    let files = vec![
        file("src/error.rs", "use crate::{types::Datum};\n"),
        file(
            "src/lib.rs",
            "pub mod sql;\npub use error::{Error, Result};\n",
        ),
        file("src/node.rs", "use crate::wire;\nuse crate::store;\n"),
        file(
            "src/sql/mod.rs",
            "use crate::exec::Session;\nuse crate::Error;\n",
        ),
        file(
            "src/wire/mod.rs",
            "use crate::store::Store;\nuse crate::node;\n",
        ),
    ];
    assert_eq!(
        layer_violations(&files),
        vec![
            "src/error.rs:1: error imports crate::types (not allowed: error may use only itself)",
            "src/sql/mod.rs:1: sql imports crate::exec (not allowed: sql may use only error, types)",
            "src/wire/mod.rs:1: wire imports crate::store (not allowed: wire may use only error, \
             types, sql, exec, config, auth, observe)",
            "src/wire/mod.rs:2: wire imports crate::node (not allowed: wire may use only error, \
             types, sql, exec, config, auth, observe)",
        ]
    );
}

#[test]
fn scanner_sees_rusqlite_in_code_only_and_unknown_modules() {
    let files = vec![
        file("src/store/mod.rs", "use rusqlite::Connection;\n"),
        file(
            "src/exec/mod.rs",
            "// rusqlite in a comment\nlet m = \"rusqlite in a string\";\n\
             fn f(e: rusqlite::Error) {}\nlet x = my_rusqlite_helper();\n",
        ),
        file("src/ext/geo.rs", "pub fn area() {}\n"),
        file("src/ext/mod.rs", "pub mod geo;\n"),
    ];
    assert_eq!(
        layer_violations(&files),
        vec![
            "src/exec/mod.rs:3: rusqlite outside src/store",
            "src/ext/geo.rs:1: module ext is not in the layer table: add it to LAYERS in \
             tests/layers.rs",
        ]
    );
}

#[test]
fn file_length_check_sees_long_files() {
    let files = vec![
        file("src/a.rs", &"x\n".repeat(801)),
        file("src/b.rs", &"x\n".repeat(800)),
    ];
    assert_eq!(
        long_files(&files, 800),
        vec!["src/a.rs: 801 lines (limit 800)"]
    );
}

#[test]
fn function_finder_skips_literals_comments_and_tests() {
    let body = "    let x = 1;\n".repeat(10);
    let src = format!(
        "pub(crate) async fn long_one(a: [u8; 4]) -> u8 {{\n\
         {body}    let s = \"}}}}\"; let c = '}}'; let e = '\\'';\n\
         {body}    let r = r#\"}} \" }}\"#; // }} in a comment\n\
         {body}    /* }} */ 0\n\
         }}\n\
         fn short() {{}}\n\
         trait T {{\n    fn declared(&self);\n    fn provided<'a>(&'a self) {{\n{body}    }}\n}}\n\
         #[cfg(test)]\nmod tests {{\n    fn long_test() {{\n{body}{body}{body}{body}    }}\n}}\n"
    );
    let f = file("src/exec/query.rs", &src);
    let found: Vec<(String, usize, usize)> = functions(&f)
        .into_iter()
        .map(|f| (f.name, f.line, f.lines))
        .collect();
    assert_eq!(
        found,
        vec![
            ("long_one".to_string(), 1, 35),
            ("short".to_string(), 36, 1),
            ("provided".to_string(), 39, 12),
        ]
    );
    let files = vec![
        f,
        file("src/exec/tests.rs", &format!("fn t() {{\n{body}{body}}}\n")),
    ];
    assert_eq!(
        long_functions(&files, 20, &[]),
        vec!["src/exec/query.rs:1: fn long_one is 35 lines (limit 20)"]
    );
    assert!(long_functions(&files, 20, &[("src/exec/query.rs", "long_one")]).is_empty());
    // An allowlist entry that matches nothing is reported, so the list stays true.
    assert_eq!(
        long_functions(&files, 40, &[("src/exec/query.rs", "long_one")]),
        vec![
            "src/exec/query.rs: fn long_one is allowed to be long but is not (remove it from \
              LONG_FUNCTIONS_ALLOWED)"
        ]
    );
}

#[test]
fn test_module_files_are_exempt_from_the_function_limit() {
    let body = "    let x = 1;\n".repeat(30);
    let files = vec![
        file(
            "src/sql/mod.rs",
            "#[cfg(test)]\n#[allow(dead_code)]\nmod robustness;\n#[cfg(test)]\nuse x;\nmod parse;\n",
        ),
        file("src/sql/robustness.rs", &format!("fn fuzz() {{\n{body}}}\n")),
        file("src/plan/prune/tests/never_wrong.rs", &format!("fn t() {{\n{body}}}\n")),
        file("src/sql/parse.rs", &format!("fn parse() {{\n{body}}}\n")),
    ];
    assert_eq!(
        long_functions(&files, 20, &[]),
        vec!["src/sql/parse.rs:1: fn parse is 32 lines (limit 20)"]
    );
}

// ---------------------------------------------------------------------------
// Reading the tree

struct SourceFile {
    /// Relative to the crate root, with `/`: `src/exec/write.rs`.
    path: String,
    text: String,
}

fn crate_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Every `.rs` file under `root/src`, sorted by path.
fn read_sources(root: &Path) -> Vec<SourceFile> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<SourceFile>) {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let rel = format!("{rel}/{name}");
            if path.is_dir() {
                walk(&path, &rel, out);
            } else if name.ends_with(".rs") {
                let text =
                    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.push(SourceFile { path: rel, text });
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("src"), "src", &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn layer_table() -> BTreeMap<String, Vec<String>> {
    LAYERS
        .iter()
        .map(|(m, allowed)| {
            (
                m.to_string(),
                allowed.iter().map(|a| a.to_string()).collect(),
            )
        })
        .collect()
}

/// The top-level module a file belongs to: `src/exec/write.rs` → `exec`,
/// `src/node.rs` → `node`. None for the crate roots.
fn top_module(path: &str) -> Option<String> {
    if EXEMPT_FILES.contains(&path) {
        return None;
    }
    let rest = path.strip_prefix("src/")?;
    let first = rest.split('/').next()?;
    Some(first.strip_suffix(".rs").unwrap_or(first).to_string())
}

/// How deep a file's own module sits below the crate root:
/// `src/node.rs` and `src/exec/mod.rs` are 1, `src/exec/write.rs` is 2.
fn module_depth(path: &str) -> usize {
    let parts: Vec<&str> = path.trim_start_matches("src/").split('/').collect();
    match parts.last() {
        Some(&"mod.rs") => parts.len() - 1,
        _ => parts.len(),
    }
}

// ---------------------------------------------------------------------------
// The layer rules

/// Every layer violation in `files`, one line each, in path and line order.
fn layer_violations(files: &[SourceFile]) -> Vec<String> {
    let table = layer_table();
    let reexports = files
        .iter()
        .find(|f| f.path == "src/lib.rs")
        .map(|f| root_reexports(&code_only(&f.text)))
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut unknown = BTreeSet::new();
    for f in files {
        let Some(module) = top_module(&f.path) else {
            continue;
        };
        let Some(allowed) = table.get(&module) else {
            if unknown.insert(module.clone()) {
                out.push(format!(
                    "{}:1: module {module} is not in the layer table: add it to LAYERS in \
                     tests/layers.rs",
                    f.path
                ));
            }
            continue;
        };
        let mut found: Vec<(usize, String)> = Vec::new();
        for (line, name) in module_references(f) {
            let other = reexports.get(&name).cloned().unwrap_or(name);
            let ok = other == module || allowed.iter().any(|a| a == "*" || *a == other);
            let message = format!("{module} imports crate::{other}");
            if !ok && !found.contains(&(line, message.clone())) {
                found.push((line, message));
            }
        }
        let only = match allowed.is_empty() {
            true => "itself".to_string(),
            false => allowed.join(", "),
        };
        for (_, message) in &mut found {
            *message = format!("{message} (not allowed: {module} may use only {only})");
        }
        if !f.path.starts_with(SQLITE_ONLY_IN) {
            let sqlite = rusqlite_lines(f).into_iter();
            found.extend(sqlite.map(|line| (line, "rusqlite outside src/store".to_string())));
        }
        found.sort_by_key(|(line, _)| *line);
        out.extend(
            found
                .into_iter()
                .map(|(line, m)| format!("{}:{line}: {m}", f.path)),
        );
    }
    out
}

/// Names the crate root re-exports (`pub use error::{Error, Result};`),
/// mapped to the module they come from, so `crate::Error` counts as `error`.
fn root_reexports(lib_code: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stmt in lib_code.split(';') {
        let Some(at) = stmt.find("pub use ") else {
            continue;
        };
        let path: String = stmt[at + "pub use ".len()..]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let path = path.trim_start_matches("crate::");
        let Some((head, tail)) = path.split_once("::") else {
            continue;
        };
        let names: Vec<&str> = match tail.strip_prefix('{') {
            Some(group) => group.trim_end_matches('}').split(',').collect(),
            None => vec![tail.rsplit("::").next().unwrap_or(tail)],
        };
        for name in names {
            // `X as Y` exports Y.
            if let Some(exported) = name.split_whitespace().last() {
                out.insert(exported.to_string(), head.trim().to_string());
            }
        }
    }
    out
}

/// Every crate-level name a file references, with its line: the first
/// segment after `crate::` (also each head of a `crate::{a, b::c}` group),
/// and after a `super::` chain that climbs to the crate root. Comments and
/// literals are not code and are skipped.
fn module_references(f: &SourceFile) -> Vec<(usize, String)> {
    let code: Vec<char> = code_only(&f.text).chars().collect();
    let lines = LineIndex::new(&code);
    let file_depth = module_depth(&f.path);
    let mut out = Vec::new();
    // Brace depths at which inline `mod NAME {` blocks opened.
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < code.len() {
        let c = code[i];
        if c == '{' {
            depth += 1;
            i += 1;
        } else if c == '}' {
            depth = depth.saturating_sub(1);
            if inline_mods.last() == Some(&depth) {
                inline_mods.pop();
            }
            i += 1;
        } else if is_ident_start(c) {
            let (word, end) = ident_at(&code, i);
            let starts_path = i == 0 || (code[i - 1] != '$' && !is_ident(code[i - 1]));
            let after_colons = i >= 2 && code[i - 1] == ':' && code[i - 2] == ':';
            if word == "mod" {
                let (_, name_end) = ident_at(&code, skip_ws(&code, end));
                if code.get(skip_ws(&code, name_end)) == Some(&'{') {
                    inline_mods.push(depth);
                }
            } else if word == "crate" && starts_path && !after_colons {
                out.extend(path_heads(&code, end, &lines));
            } else if word == "super" && starts_path && !after_colons {
                let mut supers = 1;
                let mut j = end;
                loop {
                    let k = skip_ws(&code, j);
                    if code.get(k) == Some(&':') && code.get(k + 1) == Some(&':') {
                        let s = skip_ws(&code, k + 2);
                        let (w, e) = ident_at(&code, s);
                        if w == "super" {
                            supers += 1;
                            j = e;
                            continue;
                        }
                    }
                    break;
                }
                if supers >= file_depth + inline_mods.len() {
                    out.extend(path_heads(&code, j, &lines));
                }
                i = j;
                continue;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// After `crate` (or a `super` chain) at `at`: the segment after `::`, or
/// each head of a `::{...}` group, with their lines.
fn path_heads(code: &[char], at: usize, lines: &LineIndex) -> Vec<(usize, String)> {
    let k = skip_ws(code, at);
    if code.get(k) != Some(&':') || code.get(k + 1) != Some(&':') {
        return Vec::new();
    }
    let k = skip_ws(code, k + 2);
    if code.get(k) != Some(&'{') {
        let (word, _) = ident_at(code, k);
        return match word.as_str() {
            "" | "self" | "super" => Vec::new(),
            _ => vec![(lines.line_of(k), word)],
        };
    }
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut expect_head = true;
    let mut j = k;
    while j < code.len() {
        match code[j] {
            '{' => {
                depth += 1;
                j += 1;
            }
            '}' => {
                depth -= 1;
                j += 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => {
                expect_head = true;
                j += 1;
            }
            c if depth == 1 && expect_head && is_ident_start(c) => {
                let (word, end) = ident_at(code, j);
                if word != "self" && word != "super" {
                    out.push((lines.line_of(j), word));
                }
                expect_head = false;
                j = end;
            }
            c => {
                if !c.is_whitespace() {
                    expect_head = false;
                }
                j += 1;
            }
        }
    }
    out
}

/// Lines on which the `rusqlite` crate is named in code.
fn rusqlite_lines(f: &SourceFile) -> Vec<usize> {
    let code: Vec<char> = code_only(&f.text).chars().collect();
    let lines = LineIndex::new(&code);
    let mut out: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < code.len() {
        if is_ident_start(code[i]) {
            let (word, end) = ident_at(&code, i);
            if word == "rusqlite" && out.last() != Some(&lines.line_of(i)) {
                out.push(lines.line_of(i));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Sizes

fn long_files(files: &[SourceFile], limit: usize) -> Vec<String> {
    files
        .iter()
        .map(|f| (f, f.text.lines().count()))
        .filter(|(_, n)| *n > limit)
        .map(|(f, n)| format!("{}: {n} lines (limit {limit})", f.path))
        .collect()
}

struct Function {
    name: String,
    /// The line of the `fn` keyword, 1-based.
    line: usize,
    /// From the `fn` line to the line of the closing brace, both included.
    lines: usize,
}

fn long_functions(files: &[SourceFile], limit: usize, allowed: &[(&str, &str)]) -> Vec<String> {
    let test_files: Vec<String> = files.iter().flat_map(test_module_files).collect();
    let mut out = Vec::new();
    let mut used = BTreeSet::new();
    for f in files.iter().filter(|f| !is_test_only(f, &test_files)) {
        for func in functions(f).into_iter().filter(|func| func.lines > limit) {
            if allowed.contains(&(f.path.as_str(), func.name.as_str())) {
                used.insert((f.path.clone(), func.name.clone()));
                continue;
            }
            out.push(format!(
                "{}:{}: fn {} is {} lines (limit {limit})",
                f.path, func.line, func.name, func.lines
            ));
        }
    }
    for (path, name) in allowed {
        if !used.contains(&(path.to_string(), name.to_string())) {
            out.push(format!(
                "{path}: fn {name} is allowed to be long but is not (remove it from \
                 LONG_FUNCTIONS_ALLOWED)"
            ));
        }
    }
    out
}

/// Whether a whole file is test code: `tests.rs`, anything in a `tests/`
/// folder, a `#[cfg(test)] mod NAME;` file (`test_files`), or `#![cfg(test)]`.
fn is_test_only(f: &SourceFile, test_files: &[String]) -> bool {
    let path = f.path.as_str();
    path.ends_with("/tests.rs")
        || path.contains("/tests/")
        || test_files
            .iter()
            .any(|t| path == t || (t.ends_with('/') && path.starts_with(t.as_str())))
        || code_only(&f.text).contains("#![cfg(test)]")
}

/// Files that hold a `#[cfg(test)] mod NAME;` declared in `f`: the module
/// file `NAME.rs` and everything in the folder `NAME/`.
fn test_module_files(f: &SourceFile) -> Vec<String> {
    let code: Vec<char> = code_only(&f.text).chars().collect();
    let dir = match f.path.rsplit_once('/') {
        Some((dir, "mod.rs" | "lib.rs" | "main.rs")) => dir.to_string(),
        _ => f.path.trim_end_matches(".rs").to_string(),
    };
    let mut out = Vec::new();
    for (_, after) in cfg_test_attributes(&code) {
        let mut i = skip_attributes(&code, after);
        let (mut word, mut end) = ident_at(&code, i);
        if word == "pub" {
            if code.get(end) == Some(&'(') {
                end = matching(&code, end, '(', ')') + 1;
            }
            i = skip_ws(&code, end);
            (word, end) = ident_at(&code, i);
        }
        if word != "mod" {
            continue;
        }
        let (name, name_end) = ident_at(&code, skip_ws(&code, end));
        if !name.is_empty() && code.get(skip_ws(&code, name_end)) == Some(&';') {
            out.push(format!("{dir}/{name}.rs"));
            out.push(format!("{dir}/{name}/"));
        }
    }
    out
}

/// The functions with a body in a file, outside `#[cfg(test)]` items.
fn functions(f: &SourceFile) -> Vec<Function> {
    let code: Vec<char> = code_only(&f.text).chars().collect();
    let lines = LineIndex::new(&code);
    let tests = cfg_test_ranges(&code);
    let mut out = Vec::new();
    for &start in &lines.starts {
        let Some((name, after_name)) = fn_item_at(&code, skip_ws_in_line(&code, start)) else {
            continue;
        };
        if tests.iter().any(|(a, b)| (*a..=*b).contains(&start)) {
            continue;
        }
        let Some(open) = body_start(&code, after_name) else {
            continue;
        };
        let close = matching(&code, open, '{', '}');
        let line = lines.line_of(start);
        out.push(Function {
            name,
            line,
            lines: lines.line_of(close) - line + 1,
        });
    }
    out
}

/// Char ranges of the items under `#[cfg(test)]` that have a body.
fn cfg_test_ranges(code: &[char]) -> Vec<(usize, usize)> {
    cfg_test_attributes(code)
        .into_iter()
        .filter_map(|(start, after)| {
            let open = body_start(code, skip_attributes(code, after))?;
            Some((start, matching(code, open, '{', '}')))
        })
        .collect()
}

/// Where each `#[cfg(test)]` starts, and the index after it.
fn cfg_test_attributes(code: &[char]) -> Vec<(usize, usize)> {
    let attr: Vec<char> = "#[cfg(test)]".chars().collect();
    (0..code.len())
        .filter(|i| code[*i..].starts_with(&attr))
        .map(|i| (i, i + attr.len()))
        .collect()
}

/// The index of the first thing after `at` that is not whitespace or an
/// attribute (`#[...]`).
fn skip_attributes(code: &[char], at: usize) -> usize {
    let mut i = skip_ws(code, at);
    while code.get(i) == Some(&'#') && code.get(i + 1) == Some(&'[') {
        i = skip_ws(code, matching(code, i + 1, '[', ']') + 1);
    }
    i
}

/// If the code at `at` starts a `fn` item (`pub(crate) async fn name`,
/// `const fn name`, …): its name and the index after it.
fn fn_item_at(code: &[char], at: usize) -> Option<(String, usize)> {
    const QUALIFIERS: &[&str] = &["pub", "async", "const", "unsafe", "extern", "default"];
    let mut i = at;
    loop {
        let (word, end) = ident_at(code, i);
        if word == "fn" {
            let name_at = skip_ws(code, end);
            if name_at == end {
                return None;
            }
            let (name, name_end) = ident_at(code, name_at);
            return (!name.is_empty()).then_some((name, name_end));
        }
        if !QUALIFIERS.contains(&word.as_str()) {
            return None;
        }
        i = end;
        if word == "pub" && code.get(i) == Some(&'(') {
            i = matching(code, i, '(', ')') + 1;
        }
        let next = skip_ws(code, i);
        // `extern "C"`: the ABI string is blanked to spaces.
        if next == i && word != "pub" {
            return None;
        }
        i = next;
    }
}

/// The `{` opening the body of the item whose signature starts at `at`, or
/// None if a `;` ends it first (a declaration, `mod name;`).
fn body_start(code: &[char], at: usize) -> Option<usize> {
    let mut nesting = 0i32;
    for (i, c) in code.iter().enumerate().skip(at) {
        match c {
            '(' | '[' => nesting += 1,
            ')' | ']' => nesting -= 1,
            '{' if nesting == 0 => return Some(i),
            ';' if nesting == 0 => return None,
            _ => {}
        }
    }
    None
}

/// The index of the `close` that matches the `open` at `at` (the last
/// index if it is never closed).
fn matching(code: &[char], at: usize, open: char, close: char) -> usize {
    let mut depth = 0usize;
    for (i, c) in code.iter().enumerate().skip(at) {
        if *c == open {
            depth += 1;
        } else if *c == close {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    code.len().saturating_sub(1)
}

// ---------------------------------------------------------------------------
// A small lexer

/// The source with comments (`//`, `///`, `//!`, nested `/* */`), string
/// literals (plain, byte, raw `r#"…"#`) and char literals replaced by
/// spaces, newlines kept, so every index and line stays where it was.
fn code_only(text: &str) -> String {
    let src: Vec<char> = text.chars().collect();
    let mut out = src.clone();
    let n = src.len();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(n)] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let mut i = 0;
    while i < n {
        let c = src[i];
        let next = src.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = src[i..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(n, |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < n {
                if src[j] == '/' && src.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if src[j] == '*' && src.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if let Some(end) = raw_string_end(&src, i) {
            blank(&mut out, i, end);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < n && src[j] != '"' {
                j += if src[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' && next == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{7f}'.
            let mut j = i + 3;
            while j < n && src[j] != '\'' {
                j += 1;
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' && src.get(i + 2) == Some(&'\'') {
            blank(&mut out, i, i + 3);
            i += 3;
        } else if is_ident_start(c) {
            // A whole identifier, so an `r` or `b` inside one never starts a literal.
            i = ident_at(&src, i).1;
        } else {
            // Anything else, a lifetime's `'` included.
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// If a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) starts at `i`: the index
/// after it.
fn raw_string_end(src: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if src.get(j) == Some(&'b') {
        j += 1;
    }
    if src.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = src[j..].iter().take_while(|c| **c == '#').count();
    j += hashes;
    if src.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < src.len() {
        if src[j] == '"'
            && src[j + 1..]
                .iter()
                .take(hashes)
                .filter(|c| **c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(src.len())
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier at `i` (empty if none) and the index after it.
fn ident_at(code: &[char], i: usize) -> (String, usize) {
    if !code.get(i).is_some_and(|c| is_ident_start(*c)) {
        return (String::new(), i);
    }
    let end = code[i..]
        .iter()
        .position(|c| !is_ident(*c))
        .map_or(code.len(), |p| i + p);
    (code[i..end].iter().collect(), end)
}

fn skip_ws(code: &[char], mut i: usize) -> usize {
    while code.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

fn skip_ws_in_line(code: &[char], mut i: usize) -> usize {
    while code.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
        i += 1;
    }
    i
}

/// Line numbers (1-based) of char indices.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(code: &[char]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            code.iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i + 1),
        );
        if starts.last() == Some(&code.len()) {
            starts.pop();
        }
        LineIndex { starts }
    }

    fn line_of(&self, i: usize) -> usize {
        self.starts.partition_point(|s| *s <= i)
    }
}
