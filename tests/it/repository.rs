//! The repository stands on its own: a stranger's clone has nothing beside it, and the
//! scripts the README names run as written.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "corpus" || name == "artifacts" {
            continue;
        }
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn nothing_reads_a_path_outside_the_repository() {
    // Built from parts so that this file does not name it itself.
    let outside = format!("{}/{}", "..", "shared");
    let mut files = Vec::new();
    for dir in ["src", "tests", "scripts", "fuzz", ".ci"] {
        files_under(&Path::new(ROOT).join(dir), &mut files);
    }
    assert!(
        files.len() > 20,
        "the walk found the source tree: {files:?}"
    );
    let offenders: Vec<_> = files
        .iter()
        .filter(|path| {
            fs::read(path)
                .map(|bytes| String::from_utf8_lossy(&bytes).contains(&outside))
                .unwrap_or(false)
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these files name {outside}, which a clone does not have: {offenders:?}"
    );
}

/// Every write to stdout is checked: `print!`/`println!` panic on a full
/// disk, so src/ writes to stdout only through `out.rs`.
#[test]
fn stdout_is_written_only_through_out() {
    let mut files = Vec::new();
    files_under(&Path::new(ROOT).join("src"), &mut files);
    let mut offenders = Vec::new();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        if path.ends_with("src/out.rs") {
            continue;
        }
        let text = fs::read_to_string(path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let bare_print = ["print!(", "println!("].iter().any(|m| {
                code.match_indices(m)
                    .any(|(i, _)| !code[..i].ends_with('e') && !code[..i].ends_with('_'))
            });
            let raw_stdout = code.contains("stdout()") && !code.contains("stdout().is_terminal()");
            if bare_print || raw_stdout {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "write to stdout with crate::out::print instead: {offenders:#?}"
    );
}

#[test]
fn every_script_the_readme_names_is_executable() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut named: Vec<&str> = readme
        .match_indices("scripts/")
        .map(|(at, _)| {
            let rest = &readme[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "/_.-".contains(c)))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('.')
        })
        .filter(|name| name.len() > "scripts/".len())
        .collect();
    named.sort_unstable();
    named.dedup();
    assert!(
        named.contains(&"scripts/test") && named.contains(&"scripts/try-local"),
        "the README names its test command and demo: {named:?}"
    );
    for name in named {
        let path = Path::new(ROOT).join(name);
        let mode = fs::metadata(&path)
            .unwrap_or_else(|e| panic!("the README names {name}, which is not there: {e}"))
            .permissions()
            .mode();
        assert!(
            mode & 0o111 != 0,
            "the README names {name}, which has no run bit (mode {mode:o}): git update-index --chmod=+x {name}"
        );
    }
}

/// The layers of docs/architecture.md: a module of `src/` (its first path component) and
/// its rank. An import may point to the same rank or lower, never higher.
const LAYERS: &[(&str, u8)] = &[
    ("main", 7),
    ("cli", 7),
    ("cmd", 6),
    ("session", 5),
    ("aws", 4),
    ("config", 3),
    ("cache", 3),
    ("shell", 2),
    ("tty", 2),
    ("env", 1),
    ("error", 1),
    ("timefmt", 1),
    ("fsutil", 1),
    ("out", 1),
    ("credentials", 1),
    ("encode", 1),
    ("json", 1),
    ("qr", 1),
    ("msg", 1),
];

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// The top-level modules a line of Rust names through `crate::`: `crate::a::b`,
/// `crate::{a, b::c}`.
fn crate_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// Every import from one top-level module of `src/` to another: (from, to, where).
fn imports() -> Vec<(String, String, String)> {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    files_under(&src, &mut files);
    let mut out = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let rel = f.strip_prefix(&src).unwrap_or(f);
        let first = rel
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if first == "lib" {
            continue;
        }
        let text = fs::read_to_string(f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for to in crate_paths(line) {
                if to != first {
                    out.push((first.clone(), to, format!("{}:{}", rel.display(), n + 1)));
                }
            }
        }
    }
    out
}

#[test]
fn layers_point_down() {
    let all = imports();
    assert!(all.len() > 50, "the walk found the imports: {all:?}");
    let mut bad = Vec::new();
    for (from, to, at) in &all {
        match (rank(from), rank(to)) {
            (Some(a), Some(b)) if b <= a => {}
            (Some(_), Some(_)) => bad.push(format!("{at}: {from} imports {to}, a higher layer")),
            _ => bad.push(format!(
                "{at}: {from} → {to}: a module missing from the table (and docs/architecture.md)"
            )),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn module_graph_has_no_cycle() {
    let all = imports();
    let mut edges: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for (from, to, _) in &all {
        edges.entry(from.as_str()).or_default().insert(to.as_str());
    }
    // Depth-first search; a node met again while on the stack closes a cycle.
    fn visit<'a>(
        n: &'a str,
        edges: &std::collections::BTreeMap<&'a str, std::collections::BTreeSet<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut std::collections::BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = stack.iter().position(|s| *s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n);
            return Some(cycle);
        }
        if !done.insert(n) {
            return None;
        }
        stack.push(n);
        for next in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = Default::default();
    for n in edges.keys() {
        if let Some(c) = visit(n, &edges, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", c.join(" → "));
        }
    }
}

#[test]
fn the_layer_table_is_the_documented_one() {
    let doc = fs::read_to_string(Path::new(ROOT).join("docs/architecture.md")).unwrap();
    for (module, r) in LAYERS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {r} |")))
            .unwrap_or_else(|| panic!("docs/architecture.md has no layer {r}"));
        assert!(
            row.contains(&format!("`{module}")),
            "{module} is not in layer {r} of docs/architecture.md: {row}"
        );
    }
}

/// Only `shell/` starts processes (the shell, the exec'd command, credential_process
/// and mfa_process): no other module of `src/` calls `Command::new`.
#[test]
fn only_shell_starts_processes() {
    let mut files = Vec::new();
    files_under(&Path::new(ROOT).join("src"), &mut files);
    let shell = Path::new(ROOT).join("src/shell");
    let mut found = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = fs::read_to_string(f).unwrap();
        let starts = text.contains("Command::new(");
        if f.starts_with(&shell) {
            found += usize::from(starts);
        } else {
            assert!(
                !starts,
                "{} starts a process: move that into src/shell/",
                f.display()
            );
        }
    }
    assert!(
        found >= 2,
        "src/shell/ starts no process: the check looks at the wrong files"
    );
}

/// Every message goes through `msg.rs`, the one writer of stderr (as `out.rs` is of
/// stdout): one prefix, one write per line, and debug traces switched in one place.
#[test]
fn stderr_is_written_only_through_msg() {
    let mut files = Vec::new();
    files_under(&Path::new(ROOT).join("src"), &mut files);
    let mut offenders = Vec::new();
    let mut checked = 0;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        if path.ends_with("src/msg.rs") {
            continue;
        }
        checked += 1;
        let text = fs::read_to_string(path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if ["eprintln!(", "eprint!(", "dbg!(", "stderr()"]
                .iter()
                .any(|m| code.contains(m))
            {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(checked > 40, "the walk found the sources ({checked})");
    assert!(
        offenders.is_empty(),
        "write to stderr with crate::msg (note, warning, debug, say) instead: {offenders:#?}"
    );
}

/// No `Box::leak`: what lives as long as the process is owned (an `Arc` shared with
/// threads), so nothing is leaked on purpose.
#[test]
fn nothing_is_leaked_on_purpose() {
    let mut files = Vec::new();
    files_under(&Path::new(ROOT).join("src"), &mut files);
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = fs::read_to_string(f).unwrap_or_default();
        assert!(
            !text.contains("Box::leak("),
            "{} leaks a Box: own the value (an Arc for threads) instead",
            f.display()
        );
    }
}

/// The module path of a file of `src/`: `aws/http.rs` → `[aws, http]`,
/// `session/source/mod.rs` → `[session, source]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" && stem != "main" {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// The paths a `use` tree names: `a::{b, c::{d, self}}` → `a::b`, `a::c::d`, `a::c`.
fn expand_use_tree(tree: &str) -> Vec<String> {
    // `x as y` names x: the rename is cut before the blanks go.
    let tree: String = tree
        .replace(" as ", "@")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let Some(open) = tree.find('{') else {
        let path = tree.split('@').next().unwrap_or(&tree);
        return vec![path.trim_end_matches("::*").to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    // Text that only looks like a `use` (in a string: "…; use a directory …") may have
    // its `}` before its `{`: read to the end then, never slice backwards.
    let close = tree.rfind('}').filter(|&c| c > open).unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    // Split `inner` at the commas of its own level.
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    let mut out = Vec::new();
    for item in items.into_iter().filter(|i| !i.is_empty()) {
        for sub in expand_use_tree(item) {
            out.push(if sub == "self" {
                prefix.to_string()
            } else {
                format!("{prefix}::{sub}")
            });
        }
    }
    out
}

/// The paths through `crate::`, `super::` or `self::` that a file's code (its tests
/// left out) names, each as written.
fn named_paths(text: &str) -> Vec<String> {
    let code: String = text
        .split("\n#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or("")
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    // `use` statements, which may span lines and nest braces.
    for stmt in code.split(';') {
        let t = stmt.trim_start();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(tree) = t.strip_prefix("use ") {
            out.extend(expand_use_tree(tree));
        }
    }
    // Paths in expressions and types: `crate::a::b::f(...)`.
    for start in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(start) {
            let before = code[..i].chars().last().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == ':' {
                continue;
            }
            let path: String = code[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every import between two files of `src/`: (from, to), as paths below `src/`.
fn file_imports() -> Vec<(String, String)> {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    files_under(&src, &mut files);
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .collect();
    let modules: Vec<(Vec<String>, String)> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap_or(f);
            (module_of(rel), rel.display().to_string())
        })
        .filter(|(m, _)| !m.is_empty())
        .collect();
    let mut out = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap_or(f);
        let me = module_of(rel);
        let text = fs::read_to_string(f).unwrap_or_default();
        for path in named_paths(&text) {
            let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut abs: Vec<String> = me.clone();
            match segs.first() {
                Some(&"crate") => abs.clear(),
                Some(&"self") => {}
                Some(&"super") => {}
                _ => continue,
            }
            if segs[0] != "super" {
                segs.remove(0);
            }
            while segs.first() == Some(&"super") {
                abs.pop();
                segs.remove(0);
            }
            abs.extend(segs.iter().map(|s| s.to_string()));
            let target = modules
                .iter()
                .filter(|(m, _)| abs.starts_with(m))
                .max_by_key(|(m, _)| m.len());
            if let Some((m, file)) = target {
                if *m != me {
                    out.push((rel.display().to_string(), file.clone()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn use_trees_are_expanded() {
    assert_eq!(
        expand_use_tree("crate::a::{self, b::{c, d}, e as f}"),
        [
            "crate::a",
            "crate::a::b::c",
            "crate::a::b::d",
            "crate::a::e"
        ]
    );
    assert_eq!(
        named_paths("use super::x::Y;\nfn f() { crate::aws::url::redact_url(u) }"),
        ["crate::aws::url::redact_url", "super::x::Y"]
    );
}

/// No two files import each other, directly or around a loop: a file can be read (and
/// moved) with only what lies below it. Imports of a parent module (`super::`) count;
/// a file's own tests do not.
#[test]
fn file_graph_has_no_cycle() {
    let edges = file_imports();
    assert!(
        edges
            .iter()
            .any(|(a, b)| a == "aws/client.rs" && b == "aws/http.rs"),
        "the walk found the file imports: {edges:?}"
    );
    let mut next: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (a, b) in &edges {
        next.entry(a.as_str()).or_default().push(b.as_str());
    }
    fn visit<'a>(
        n: &'a str,
        next: &std::collections::BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut std::collections::BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = stack.iter().position(|s| *s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n);
            return Some(cycle);
        }
        if !done.insert(n) {
            return None;
        }
        stack.push(n);
        for m in next.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, next, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = Default::default();
    for n in next.keys() {
        if let Some(c) = visit(n, &next, &mut Vec::new(), &mut done) {
            panic!("import cycle between files: {}", c.join(" → "));
        }
    }
}

/// The files of `cmd/` that are no command: the registry and what commands share.
const CMD_SHARED: &[&str] = &[
    "cmd/mod.rs",
    "cmd/args.rs",
    "cmd/help.rs",
    "cmd/format.rs",
    "cmd/suggest.rs",
    "cmd/sso_login.rs",
];

/// A command file imports no other command (what commands share lives in
/// `cmd/args.rs`, `cmd/format.rs` or a lower layer), and `cmd/mod.rs` is the registry
/// and the dispatch only.
#[test]
fn no_command_imports_another() {
    let edges = file_imports();
    let is_command = |f: &str| f.starts_with("cmd/") && !CMD_SHARED.contains(&f);
    assert!(
        edges.iter().any(|(a, _)| is_command(a)),
        "the walk found the commands' imports"
    );
    let bad: Vec<String> = edges
        .iter()
        .filter(|(a, b)| is_command(a) && is_command(b))
        .map(|(a, b)| format!("{a} imports {b}"))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let registry = fs::read_to_string(Path::new(ROOT).join("src/cmd/mod.rs")).unwrap();
    let lines = registry.lines().count();
    assert!(
        lines <= 400,
        "src/cmd/mod.rs has {lines} lines: it is the registry and the dispatch, move the rest out"
    );
}
