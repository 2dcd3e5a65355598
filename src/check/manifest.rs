//! `manifest.json`: the SHA-256 and size of every result file of a sign-off, written last, so
//! evidence edited after the fact is detected by `reckon signoff --verify DIR`.
//!
//! The manifest guards against accidental or casual edits; it is not a signature: someone who
//! edits a file and recomputes the manifest is not detected. Keep a copy of the manifest's own
//! SHA-256 (printed by `signoff`) where the evidence cannot be edited, e.g. in the change ticket.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::CheckError;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// One result file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ManifestEntry {
    /// Path relative to the directory.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// The manifest.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    /// Manifest format version.
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// Every file of the directory but the manifest, sorted.
    pub files: Vec<ManifestEntry>,
}

/// What `--verify` found wrong with one file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Tamper {
    /// The file.
    pub file: String,
    /// `changed`, `missing` or `unlisted`.
    pub problem: String,
}

fn sha256_file(path: &Path) -> Result<(u64, String), std::io::Error> {
    let bytes = std::fs::read(path)?;
    let digest = Sha256::digest(&bytes);
    Ok((
        bytes.len() as u64,
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

fn files_of(dir: &Path) -> Result<Vec<String>, std::io::Error> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel != MANIFEST {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Hashes every file of `dir` and writes the manifest; returns the manifest's own SHA-256.
pub fn write(dir: &Path) -> Result<String, CheckError> {
    let io = |e: std::io::Error| CheckError::Output {
        path: dir.join(MANIFEST).display().to_string(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    for f in files_of(dir).map_err(io)? {
        let (bytes, sha256) = sha256_file(&dir.join(&f)).map_err(io)?;
        files.push(ManifestEntry {
            file: f,
            bytes,
            sha256,
        });
    }
    let m = Manifest {
        format_version: 1,
        reckon_version: env!("CARGO_PKG_VERSION").into(),
        files,
    };
    let text = serde_json::to_string_pretty(&m).map_err(|e| CheckError::Output {
        path: MANIFEST.into(),
        reason: e.to_string(),
    })?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, text + "\n").map_err(io)?;
    Ok(sha256_file(&path).map_err(io)?.1)
}

/// Checks every file against the manifest; returns the files that changed, went missing or were
/// added (empty: the evidence is intact) and the number of files checked.
pub fn verify(dir: &Path) -> Result<(Vec<Tamper>, usize), CheckError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| CheckError::Manifest {
        path: path.display().to_string(),
        reason: format!("cannot read the manifest: {e}"),
    })?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| CheckError::Manifest {
        path: path.display().to_string(),
        reason: format!("not a reckon manifest: {e}"),
    })?;
    let mut out = Vec::new();
    for e in &m.files {
        let p = dir.join(&e.file);
        match sha256_file(&p) {
            Err(_) => out.push(Tamper {
                file: e.file.clone(),
                problem: "missing".into(),
            }),
            Ok((bytes, sha)) if bytes != e.bytes || sha != e.sha256 => out.push(Tamper {
                file: e.file.clone(),
                problem: "changed".into(),
            }),
            Ok(_) => {}
        }
    }
    let listed: Vec<&str> = m.files.iter().map(|e| e.file.as_str()).collect();
    for f in files_of(dir).map_err(|e| CheckError::Manifest {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })? {
        if !listed.contains(&f.as_str()) {
            out.push(Tamper {
                file: f,
                problem: "unlisted".into(),
            });
        }
    }
    Ok((out, m.files.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_missing_or_added_file_is_detected() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.json"), "{}").unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/b.parquet"), [1u8, 2, 3]).unwrap();
        write(d.path()).unwrap();
        assert!(verify(d.path()).unwrap().0.is_empty());
        std::fs::write(d.path().join("sub/b.parquet"), [1u8, 2, 4]).unwrap();
        std::fs::remove_file(d.path().join("a.json")).unwrap();
        std::fs::write(d.path().join("c.txt"), "x").unwrap();
        let (t, n) = verify(d.path()).unwrap();
        assert_eq!(n, 2);
        let got: Vec<(String, String)> = t.into_iter().map(|t| (t.file, t.problem)).collect();
        assert_eq!(
            got,
            vec![
                ("a.json".to_string(), "missing".to_string()),
                ("sub/b.parquet".into(), "changed".into()),
                ("c.txt".into(), "unlisted".into()),
            ]
        );
    }
}
