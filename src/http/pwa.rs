//! The installable app's service worker, `GET /sw.js`: `src/sw.js` with the precache list and
//! version of the build this server serves. The list is what the build produced (every file
//! in the site's `/pkg/` directory, hashed names as written by cargo-leptos, precompressed
//! copies left out) plus the icons, the manifest and the offline page; the version is a hash
//! of those files' names and contents, so a deploy that changes an asset changes the worker
//! and the browsers offer the update.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use leptos::config::LeptosOptions;
use std::path::Path;

const TEMPLATE: &str = include_str!("sw.js");
/// Files of `public/` (and the offline page) every installed app needs.
const SHELL: [&str; 5] = [
    "/offline",
    "/manifest.webmanifest",
    "/icon-192.png",
    "/icon-512.png",
    "/favicon.svg",
];

/// FNV-1a, 64 bits: a stable fingerprint of the build (not a security boundary).
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

/// The precache list and the version of the build under `site_root/pkg_dir`.
pub fn precache(site_root: &Path, pkg_dir: &str) -> (Vec<String>, String) {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(site_root.join(pkg_dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            // Precompressed copies are the same files; type declarations are for editors;
            // the split build's manifest is for the server (which chunk holds which part).
            let skipped = [".br", ".gz", ".zst", ".ts"]
                .iter()
                .any(|s| name.ends_with(s))
                || name.starts_with("__wasm_split_manifest");
            if skipped || !entry.file_type().ok()?.is_file() {
                return None;
            }
            Some((
                format!("/{pkg_dir}/{name}"),
                std::fs::read(entry.path()).ok()?,
            ))
        })
        .collect();
    files.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    fnv(&mut hash, TEMPLATE.as_bytes());
    for (url, contents) in &files {
        fnv(&mut hash, url.as_bytes());
        fnv(&mut hash, contents);
    }
    let mut urls: Vec<String> = files.into_iter().map(|(url, _)| url).collect();
    urls.extend(SHELL.iter().map(|s| s.to_string()));
    (urls, format!("{hash:016x}"))
}

/// The worker's source for this build.
pub fn script(options: &LeptosOptions) -> String {
    let (urls, version) = precache(Path::new(options.site_root.as_ref()), &options.site_pkg_dir);
    let list = serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into());
    TEMPLATE
        .replace("'__VERSION__'", &format!("'{version}'"))
        .replace("__PRECACHE__", &list)
}

/// `GET /sw.js`: always revalidated, so a new deploy is found on the next visit.
pub async fn worker(State(state): State<crate::state::AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        state.worker_script.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_precache_list_is_the_builds_files_and_changes_with_them() {
        let root = std::env::temp_dir().join(format!("hearth-pwa-{}", uuid::Uuid::new_v4()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("hearth.abc123.js"), "js").unwrap();
        std::fs::write(pkg.join("hearth.abc123.js.br"), "compressed").unwrap();
        std::fs::write(pkg.join("hearth.d.abc123.ts"), "types").unwrap();
        std::fs::write(pkg.join("hearth.def456.css"), "body{}").unwrap();
        // A split build's chunks and loader are precached with the rest; its manifest is not.
        std::fs::write(pkg.join("split_family_1.ghi789.wasm"), "chunk").unwrap();
        std::fs::write(pkg.join("__wasm_split.jkl012.js"), "loader").unwrap();
        std::fs::write(pkg.join("__wasm_split_manifest.mno345.json"), "{}").unwrap();
        let (urls, first) = precache(&root, "pkg");
        assert_eq!(
            urls,
            [
                "/pkg/__wasm_split.jkl012.js",
                "/pkg/hearth.abc123.js",
                "/pkg/hearth.def456.css",
                "/pkg/split_family_1.ghi789.wasm",
                "/offline",
                "/manifest.webmanifest",
                "/icon-192.png",
                "/icon-512.png",
                "/favicon.svg"
            ]
        );
        assert_eq!(precache(&root, "pkg").1, first, "stable for the same build");
        std::fs::write(pkg.join("hearth.def456.css"), "body{color:red}").unwrap();
        assert_ne!(
            precache(&root, "pkg").1,
            first,
            "a changed asset is a new worker"
        );
        let second = precache(&root, "pkg").1;
        std::fs::write(pkg.join("split_family_1.ghi789.wasm"), "another chunk").unwrap();
        assert_ne!(
            precache(&root, "pkg").1,
            second,
            "a changed chunk is a new worker: every chunk of a build is swapped together"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_script_carries_the_list_and_the_version() {
        let options = LeptosOptions::builder()
            .output_name("hearth")
            .site_root("/nonexistent")
            .build();
        let script = script(&options);
        assert!(
            script.contains("const PRECACHE = [\"/offline\""),
            "{script}"
        );
        assert!(!script.contains("__VERSION__") && !script.contains("__PRECACHE__"));
    }
}
