//! The snapshot format: a directory of one tar archive per backed-up path plus
//! `manifest.json` with each archive's SHA-256 and size, readable with `tar tf`.

use crate::error::{io, AbraError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `manifest.json` of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The stack it was taken from.
    pub stack: String,
    /// One archive per backed-up path, service by service.
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// The services the snapshot holds, in the order they were backed up.
    pub fn services(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.service.as_str()) {
                out.push(&e.service);
            }
        }
        out
    }
}

/// One archive of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The service (short name) whose container it was copied from.
    pub service: String,
    /// The path it holds, absolute in the container.
    pub path: String,
    /// Where it is extracted on restore (the path's parent directory).
    pub restore_to: String,
    /// The archive's file name in the snapshot directory.
    pub file: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A snapshot on disk.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Its directory.
    pub dir: PathBuf,
    /// What it holds.
    pub manifest: Manifest,
}

impl Snapshot {
    /// Reads a snapshot directory.
    pub fn load(dir: &Path) -> Result<Snapshot, AbraError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let manifest = serde_json::from_str(&text).map_err(|e| {
            AbraError::Snapshot(format!(
                "{}: not a ccci snapshot manifest: {e}",
                path.display()
            ))
        })?;
        Ok(Snapshot {
            dir: dir.into(),
            manifest,
        })
    }

    /// Checks every archive against its recorded checksum and size.
    pub fn verify(&self) -> Result<(), AbraError> {
        for e in &self.manifest.entries {
            let path = self.dir.join(&e.file);
            let (sha, bytes) = hash_file(&path)?;
            if sha != e.sha256 || bytes != e.bytes {
                return Err(AbraError::Snapshot(format!(
                    "snapshot archive {} is corrupt: sha256 {sha} ({bytes} bytes), manifest says {} ({} bytes)",
                    path.display(),
                    e.sha256,
                    e.bytes
                )));
            }
        }
        Ok(())
    }

    /// Every regular file in the snapshot: (absolute path in the container, size).
    pub fn files(&self) -> Result<Vec<(String, u64)>, AbraError> {
        let mut out = Vec::new();
        self.each_file(|path, size, _| {
            out.push((path.to_string(), size));
            Ok(false)
        })?;
        Ok(out)
    }

    /// The content of the file at `path` (absolute, as in the container), if the snapshot has it.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, AbraError> {
        let mut found = None;
        self.each_file(|p, _, entry| {
            if p == path {
                let mut buf = Vec::new();
                entry.read_to_end(&mut buf).map_err(|e| {
                    AbraError::Snapshot(format!("reading {path} from the snapshot: {e}"))
                })?;
                found = Some(buf);
                return Ok(true);
            }
            Ok(false)
        })?;
        Ok(found)
    }

    /// The file at `path` gunzipped (a database dump a backup hook compressed), if the
    /// snapshot has it. A stream that is not gzip, or that ends before its trailer (a dump cut
    /// short), is an error naming the path: only a whole stream is read back.
    pub fn read_gz(&self, path: &str) -> Result<Option<Vec<u8>>, AbraError> {
        let Some(gz) = self.read(path)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(gz.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| {
                AbraError::Snapshot(format!(
                    "{path} in the snapshot is not a whole gzip stream ({} bytes): {e}",
                    gz.len()
                ))
            })?;
        Ok(Some(out))
    }

    fn each_file(
        &self,
        mut f: impl FnMut(&str, u64, &mut dyn Read) -> Result<bool, AbraError>,
    ) -> Result<(), AbraError> {
        for e in &self.manifest.entries {
            let path = self.dir.join(&e.file);
            let file = std::fs::File::open(&path).map_err(io(&path))?;
            let mut archive = tar::Archive::new(file);
            for entry in archive.entries().map_err(io(&path))? {
                let mut entry = entry.map_err(io(&path))?;
                if entry.header().entry_type() != tar::EntryType::Regular {
                    continue;
                }
                let rel = entry
                    .path()
                    .map_err(io(&path))?
                    .to_string_lossy()
                    .into_owned();
                let full = format!(
                    "{}/{}",
                    e.restore_to.trim_end_matches('/'),
                    rel.trim_start_matches("./")
                );
                let size = entry.size();
                if f(&full, size, &mut entry)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn hash_file(path: &Path) -> Result<(String, u64), AbraError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io(path))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex(&h.finalize()), n))
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// A snapshot of one archive holding `/var/lib/mysql/<name>` for each (name, content).
    fn snapshot_of(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Snapshot) {
        let dir = tempfile::tempdir().unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        for (name, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, format!("mysql/{name}"), *content)
                .unwrap();
        }
        let archive = tar.into_inner().unwrap();
        std::fs::write(dir.path().join("db-01.tar"), &archive).unwrap();
        let manifest = Manifest {
            stack: "s".into(),
            entries: vec![ManifestEntry {
                service: "db".into(),
                path: "/var/lib/mysql".into(),
                restore_to: "/var/lib".into(),
                file: "db-01.tar".into(),
                sha256: hex(&Sha256::digest(&archive)),
                bytes: archive.len() as u64,
            }],
        };
        std::fs::write(
            dir.path().join("manifest.json"),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
        let snapshot = Snapshot::load(dir.path()).unwrap();
        (dir, snapshot)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn read_gz_gives_a_whole_stream_back_and_refuses_a_cut_one() {
        let dump = b"-- MariaDB dump\nINSERT INTO posts VALUES ('marker');\n-- Dump completed\n"
            .repeat(50);
        let whole = gzip(&dump);
        let cut = &whole[..whole.len() / 2];
        let (_dir, snap) = snapshot_of(&[
            ("backup.sql.gz", &whole),
            ("cut.sql.gz", cut),
            ("plain.sql", b"not gzip"),
        ]);
        assert_eq!(
            snap.read_gz("/var/lib/mysql/backup.sql.gz")
                .unwrap()
                .unwrap(),
            dump
        );
        assert_eq!(snap.read_gz("/var/lib/mysql/absent.sql.gz").unwrap(), None);
        for bad in ["cut.sql.gz", "plain.sql"] {
            let err = snap
                .read_gz(&format!("/var/lib/mysql/{bad}"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(bad) && err.contains("not a whole gzip stream"),
                "{err}"
            );
        }
    }
}
