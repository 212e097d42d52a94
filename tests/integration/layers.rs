//! The layers of both crates, as `src/lib.rs` and `app/src/lib.rs` describe them: each part
//! may use only the parts below it, so following a call never climbs back up and no two
//! parts import each other. Read from the sources: a `use crate::…` (or any `crate::…` path)
//! that reaches upward fails the test with the file and the path.

use std::path::{Path, PathBuf};

/// The server's parts, from the bottom up.
const SERVER: &[&str] = &[
    "domain", "store", "config", "clock", "redis", "error", "cache", "auth", "realtime", "monitor",
    "state", "service", "jobs", "http", "backup", "startup",
];

/// The `app` crate's parts, from the bottom up: the shared types, talking to the server,
/// shared components, the page-load report, offline, the live client, the pages, and what is
/// around every page.
const APP: &[&str] = &[
    "money",
    "stats",
    "model",
    "ws",
    "api",
    "components",
    "vitals",
    "offline",
    "live",
    "pages",
    "layout",
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The source without its `//` comments (docs name other parts freely).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first segment of every `crate::` path in `code`, groups (`crate::{a, b::c}`) included.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(is_ident) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item, mut end) = (1, String::new(), group.len());
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        found.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    end = j;
                    break;
                }
                item.push(c);
            }
            found.push(first_segment(&item));
            rest = &group[end..];
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|s| !s.is_empty() && s != "self");
    found
}

fn first_segment(path: &str) -> String {
    path.trim().chars().take_while(|c| is_ident(*c)).collect()
}

/// Each `crate::` path in `root` that reaches a part above the file's own, as
/// "file: part → path's part".
fn upward(root: &Path, order: &[&str]) -> Vec<String> {
    let rank = |part: &str| order.iter().position(|p| *p == part);
    let mut wrong = Vec::new();
    for file in sources(root) {
        let relative = file.strip_prefix(root).unwrap();
        let part = relative.iter().next().unwrap().to_string_lossy();
        let part = part.trim_end_matches(".rs").to_string();
        if part == "lib" || part == "main" {
            continue;
        }
        let own = rank(&part).unwrap_or_else(|| {
            panic!(
                "{} is in no layer: add `{part}` to the list",
                file.display()
            )
        });
        let text = std::fs::read_to_string(&file).unwrap();
        for used in crate_paths(&code(&text)) {
            match rank(&used) {
                Some(r) if r > own => {
                    wrong.push(format!("{}: {part} uses {used}", relative.display()))
                }
                _ => {}
            }
        }
    }
    wrong
}

#[test]
fn the_servers_parts_import_only_the_parts_below_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong = upward(&root, SERVER);
    assert!(
        wrong.is_empty(),
        "imports reaching upward:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_apps_parts_import_only_the_parts_below_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("app/src");
    let wrong = upward(&root, APP);
    assert!(
        wrong.is_empty(),
        "imports reaching upward:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_plain_and_grouped_paths() {
    let text = "use crate::cache::Cache;\nuse crate::{auth, http::json::ApiJson};\nlet x = foo_crate::bar;";
    assert_eq!(crate_paths(text), ["cache", "auth", "http"]);
    assert_eq!(code("let a = 1; // crate::http"), "let a = 1; ");
}

#[test]
fn an_import_reaching_upward_is_named() {
    let root = std::env::temp_dir().join(format!("hearth-layers-{}", std::process::id()));
    std::fs::create_dir_all(root.join("low")).unwrap();
    std::fs::write(root.join("low/mod.rs"), "use crate::high::Thing;\n").unwrap();
    std::fs::write(root.join("high.rs"), "use crate::low;\n").unwrap();
    let wrong = upward(&root, &["low", "high"]);
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(wrong, ["low/mod.rs: low uses high"]);
}
