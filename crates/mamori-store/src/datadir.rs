//! The data directory (`./mamori-data/` by default): the SQLite database, the serve lock,
//! and later evidence files. It holds patient-adjacent data, so it is created owner-only.

use crate::StoreError;
use crate::error::classify_io;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

/// Held while `serve` runs; a second `serve` on the same directory is refused.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

impl DataDir {
    /// Uses an existing directory, or creates it when `create` is set, and checks that it
    /// is writable. On error nothing has been created.
    pub fn prepare(path: &Path, create: bool) -> Result<Self, StoreError> {
        let unwritable = |reason: String| StoreError::DataDirUnwritable { path: path.to_owned(), reason };
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => return Err(unwritable("not-a-directory".into())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                create_private_dir(path).map_err(|e| unwritable(classify_io(&e)))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotInitialised { path: path.to_owned() });
            }
            Err(e) => return Err(unwritable(classify_io(&e))),
        }
        let probe = path.join(format!(".write-check-{}", std::process::id()));
        File::create(&probe).map_err(|e| unwritable(classify_io(&e)))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Self { path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the exclusive serve lock (released when the process exits, however it exits).
    pub fn lock_serve(&self) -> Result<ServeLock, StoreError> {
        let lock_path = self.path.join("serve.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| StoreError::DataDirUnwritable { path: self.path.clone(), reason: classify_io(&e) })?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).ok();
                file.rewind().ok();
                let _ = write!(file, "{}", std::process::id());
                Ok(ServeLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                Err(StoreError::DataDirLocked { path: self.path.clone(), pid: pid.trim().to_owned() })
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(StoreError::DataDirUnwritable { path: self.path.clone(), reason: classify_io(&e) })
            }
        }
    }
}

impl DataDir {
    /// The installation's 256-bit key for secrets at rest (`secret.key`, mode 0600),
    /// created on first use. It is kept out of the database so that a copy of the database
    /// alone does not reveal the secrets sealed with it.
    /// With `create` false, a missing key is an error: once secrets were sealed with it, a
    /// new key would silently lock everyone out.
    pub fn installation_key(&self, create: bool) -> Result<[u8; 32], StoreError> {
        let path = self.path.join("secret.key");
        let unwritable =
            |e: std::io::Error| StoreError::DataDirUnwritable { path: path.clone(), reason: classify_io(&e) };
        match std::fs::read(&path) {
            Ok(bytes) => {
                bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{} is not a 32-byte key", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => {
                Err(StoreError::KeyMissing { path: path.clone() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).expect("the OS random source is available");
                let mut opts = OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                let mut f = opts.open(&path).map_err(unwritable)?;
                f.write_all(&key).and_then(|_| f.sync_all()).map_err(unwritable)?;
                Ok(key)
            }
            Err(e) => Err(unwritable(e)),
        }
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_private_dir_and_locks_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mamori-data");
        assert!(matches!(DataDir::prepare(&dir, false), Err(StoreError::NotInitialised { .. })));
        let d = DataDir::prepare(&dir, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        }
        let held = d.lock_serve().unwrap();
        match d.lock_serve() {
            Err(StoreError::DataDirLocked { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("expected locked, got {other:?}"),
        }
        drop(held);
        d.lock_serve().unwrap();
    }

    #[test]
    fn installation_key_is_created_once_and_private() {
        let tmp = tempfile::tempdir().unwrap();
        let d = DataDir::prepare(tmp.path(), false).unwrap();
        assert!(matches!(d.installation_key(false), Err(StoreError::KeyMissing { .. })));
        let k1 = d.installation_key(true).unwrap();
        assert_eq!(d.installation_key(false).unwrap(), k1);
        assert_ne!(k1, [0u8; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tmp.path().join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(tmp.path().join("secret.key"), b"short").unwrap();
        assert!(matches!(d.installation_key(true), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_file_is_not_a_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(DataDir::prepare(&file, true), Err(StoreError::DataDirUnwritable { .. })));
        assert!(matches!(DataDir::prepare(&file.join("sub"), true), Err(StoreError::DataDirUnwritable { .. })));
    }
}
