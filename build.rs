//! With the `embed-site` feature, the release binary carries its site: every file cargo-leptos
//! wrote under the site root (the hashed `/pkg/` assets with their `.br` and `.gz` forms, the
//! icons, the manifest) and the `hash.txt` it wrote beside the binary. `src/http/site.rs` unpacks
//! them at start-up when `LEPTOS_SITE_ROOT` is not set. Without the feature (tests, `cargo
//! leptos watch`) nothing is embedded and the site is read from disk as before.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LEPTOS_SITE_ROOT");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    let mut hashes = "None".to_string();
    if std::env::var_os("CARGO_FEATURE_EMBED_SITE").is_some() {
        let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set"));
        let root = manifest.join(std::env::var("LEPTOS_SITE_ROOT").unwrap_or("target/site".into()));
        let mut files = Vec::new();
        walk(&root, &mut files);
        assert!(
            files
                .iter()
                .any(|f| f.extension().is_some_and(|e| e == "wasm")),
            "the embed-site feature needs the built site in {}: build with cargo leptos build \
             --release --precompress --split --bin-features embed-site (it builds the site \
             first)",
            root.display()
        );
        println!("cargo::rerun-if-changed={}", root.display());
        files.sort();
        for file in &files {
            let name = file.strip_prefix(&root).expect("under the root");
            let _ = writeln!(
                code,
                "    ({:?}, include_bytes!({:?})),",
                name.to_string_lossy(),
                file.display().to_string()
            );
        }
        // cargo-leptos writes the assets' hashes beside the binary: target/<profile>/hash.txt,
        // three folders above this script's OUT_DIR (target/<profile>/build/<pkg>/out).
        if let Some(hash) = out.ancestors().nth(3).map(|dir| dir.join("hash.txt")) {
            println!("cargo::rerun-if-changed={}", hash.display());
            if hash.exists() {
                hashes = format!("Some(include_str!({:?}))", hash.display().to_string());
            }
        }
    }
    code.push_str("];\n");
    let _ = writeln!(code, "pub static HASHES: Option<&str> = {hashes};");
    std::fs::write(out.join("site.rs"), code).expect("OUT_DIR is writable");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}
