//! Where the site lives: the hashed `/pkg/` assets (with their `.br` and `.gz` forms), the
//! icons and the web manifest that the server sends, and the `hash.txt` that names the assets.
//!
//! In order: `LEPTOS_SITE_ROOT` when set (cargo-leptos sets it when it runs the server); else
//! the copy built into the binary (the `embed-site` feature of the release build, see
//! `build.rs`), unpacked at start-up into a private temporary folder that goes when the server
//! stops; else `target/site` under the working directory, or beside the binary
//! (`target/release/../site`). Leptos reads the hash file and the split manifest from disk, so
//! the embedded copy is unpacked rather than served from memory.

use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/site.rs"));
}

pub struct Site {
    pub root: PathBuf,
    /// The hash file's path (absolute, or relative to the binary's folder as Leptos reads
    /// it), when the assets' names carry hashes.
    pub hash_file: Option<PathBuf>,
    /// The unpacked copy, removed when dropped.
    _unpacked: Option<tempfile::TempDir>,
}

impl Site {
    /// Finds the site as described above.
    pub fn locate() -> std::io::Result<Self> {
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf));
        let hash_beside = beside_binary
            .as_ref()
            .map(|dir| dir.join("hash.txt"))
            .filter(|f| f.exists());
        if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
            return Ok(Self::on_disk(root.into(), hash_beside));
        }
        if !embedded::FILES.is_empty() {
            return Self::unpack(embedded::FILES, embedded::HASHES);
        }
        let here = PathBuf::from("target/site");
        let root = match beside_binary.map(|dir| dir.join("../site")) {
            Some(there) if !here.exists() && there.exists() => there,
            _ => here,
        };
        Ok(Self::on_disk(root, hash_beside))
    }

    fn on_disk(root: PathBuf, hash_file: Option<PathBuf>) -> Self {
        Self {
            root,
            hash_file,
            _unpacked: None,
        }
    }

    /// Writes `files` (paths relative to the site root) and `hashes` into a new private
    /// folder (mode 0700 on Unix, a random name) under the temporary directory.
    pub fn unpack(files: &[(&str, &[u8])], hashes: Option<&str>) -> std::io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("hearth-site-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir()?;
        let root = dir.path().join("site");
        for (name, bytes) in files {
            let path = root.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        let hash_file = match hashes {
            Some(text) => {
                let path = dir.path().join("hash.txt");
                std::fs::write(&path, text)?;
                Some(path)
            }
            None => None,
        };
        Ok(Self {
            root,
            hash_file,
            _unpacked: Some(dir),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpacked_site_holds_every_file_and_goes_when_dropped() {
        let site = Site::unpack(
            &[
                ("pkg/hearth.abc.wasm", b"\0asm"),
                ("pkg/hearth.abc.wasm.br", b"br"),
                ("favicon.svg", b"<svg/>"),
            ],
            Some("js: abc\nwasm: abc\n"),
        )
        .unwrap();
        assert_eq!(
            std::fs::read(site.root.join("pkg/hearth.abc.wasm")).unwrap(),
            b"\0asm"
        );
        assert_eq!(
            std::fs::read(site.root.join("favicon.svg")).unwrap(),
            b"<svg/>"
        );
        let hash = site.hash_file.clone().unwrap();
        assert!(hash.is_absolute(), "Leptos joins it to the binary's folder");
        assert_eq!(
            std::fs::read_to_string(&hash).unwrap(),
            "js: abc\nwasm: abc\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let folder = site.root.parent().unwrap();
            let mode = std::fs::metadata(folder).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "private to the server's user");
        }
        let folder = site.root.parent().unwrap().to_path_buf();
        drop(site);
        assert!(!folder.exists(), "removed when the server stops");
    }
}
