//! Where documents' bytes are kept (issue 16, "Storage behind one interface"): one trait, put / get /
//! delete by key, and two stores chosen by `documents.store`:
//!
//! - [`DatabaseStore`] (the default): a blob table, so one database backup holds everything;
//! - [`DirectoryStore`]: files under `documents.directory`, each written to a temporary file in the
//!   same folder, synced, renamed into place, and the folder synced, so a file is either whole or absent.
//!
//! The caller keeps the row and the bytes consistent: the bytes are put before the row is committed
//! (an orphan file is possible, a row without bytes is not), and removed only after the tombstone is
//! committed. Keys are made by `domain::document::storage_key` (the SHA-256 and the document id).
//!
//! - [`super::s3::S3Store`]: objects in an S3-compatible bucket (`[documents.s3]`).
//!
//! Whatever the store, `app::documents::read` compares the bytes it returns with the SHA-256 the
//! database holds and never serves changed bytes.
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{AppError, Services};
use crate::config::{DocumentSettings, DocumentStoreKind};

/// Put, get and delete a document's bytes by key.
pub trait DocumentStore: Send + Sync {
    /// Stores `bytes` under `key`, durably, before returning.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), AppError>;
    /// The bytes under `key`, `None` when there are none.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AppError>;
    /// Removes the bytes under `key`; removing what is not there is no error.
    fn delete(&self, key: &str) -> Result<(), AppError>;
}

/// The store the settings name; an S3 store's settings are checked here too (an error names the key).
pub fn from_settings(
    settings: &DocumentSettings,
    svc: &Services,
) -> anyhow::Result<Arc<dyn DocumentStore>> {
    Ok(match settings.store {
        DocumentStoreKind::Database => Arc::new(DatabaseStore { svc: svc.clone() }),
        DocumentStoreKind::Directory => Arc::new(DirectoryStore::new(&settings.directory)),
        DocumentStoreKind::S3 => Arc::new(super::s3::S3Store::new(&settings.s3)?),
    })
}

/// A key as the stores accept it: lower-case hex digits, digits and `-` only (what
/// `domain::document::storage_key` makes), so a key never names a path outside the store.
pub(crate) fn checked(key: &str) -> Result<&str, AppError> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-');
    if ok {
        Ok(key)
    } else {
        Err(AppError::Internal(anyhow::anyhow!(
            "document store: malformed key {key:?}"
        )))
    }
}

/// The bytes in the database (`document_blobs`), each put in its own write transaction.
pub struct DatabaseStore {
    svc: Services,
}

impl DocumentStore for DatabaseStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), AppError> {
        let key = checked(key)?;
        self.svc
            .write(|c| Ok(crate::db::documents::put_blob(c, key, bytes)?))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        let key = checked(key)?;
        self.svc
            .read(|c| Ok(crate::db::documents::get_blob(c, key)?))
    }

    fn delete(&self, key: &str) -> Result<(), AppError> {
        let key = checked(key)?;
        self.svc
            .write(|c| Ok(crate::db::documents::delete_blob(c, key)?))
    }
}

/// The bytes as files: `<directory>/<first two characters of the key>/<key>`.
pub struct DirectoryStore {
    root: PathBuf,
}

fn io(context: &'static str, e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context(context))
}

/// Syncs a folder, so a rename or removal in it survives a crash.
fn sync_dir(dir: &Path) -> Result<(), AppError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("document store: syncing the folder", e))
}

impl DirectoryStore {
    pub fn new(root: impl Into<PathBuf>) -> DirectoryStore {
        DirectoryStore { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Result<(PathBuf, PathBuf), AppError> {
        let key = checked(key)?;
        let dir = self.root.join(&key[..2.min(key.len())]);
        let file = dir.join(key);
        Ok((dir, file))
    }
}

impl DocumentStore for DirectoryStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), AppError> {
        let (dir, file) = self.path_of(key)?;
        fs::create_dir_all(&dir).map_err(|e| io("document store: creating the folder", e))?;
        let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
        let written = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &file)
        })();
        if let Err(e) = written {
            // Best effort: a temporary file left behind holds nothing a row points at.
            let _ = fs::remove_file(&tmp);
            return Err(io("document store: writing the file", e));
        }
        sync_dir(&dir)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        let (_, file) = self.path_of(key)?;
        match fs::read(&file) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("document store: reading the file", e)),
        }
    }

    fn delete(&self, key: &str) -> Result<(), AppError> {
        let (dir, file) = self.path_of(key)?;
        match fs::remove_file(&file) {
            Ok(()) => sync_dir(&dir),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("document store: removing the file", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_store_puts_gets_and_deletes_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path());
        let key = crate::domain::document::storage_key(&"ab".repeat(32), "0f1e-2d3c");
        assert_eq!(store.get(&key).unwrap(), None);
        store.put(&key, b"%PDF-1.4 hello").unwrap();
        assert_eq!(
            store.get(&key).unwrap().as_deref(),
            Some(&b"%PDF-1.4 hello"[..])
        );
        let file = dir.path().join("ab").join(&key);
        assert!(file.exists());
        // No temporary file stays beside it.
        let names: Vec<_> = fs::read_dir(dir.path().join("ab"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        store.delete(&key).unwrap();
        assert!(!file.exists());
        assert_eq!(store.get(&key).unwrap(), None);
        store.delete(&key).unwrap();
    }

    #[test]
    fn a_key_never_names_a_path_outside_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path());
        for bad in ["../x", "/etc/passwd", "AB", "", "a/b", "..", "ab\0"] {
            assert!(store.put(bad, b"x").is_err(), "{bad:?}");
            assert!(store.get(bad).is_err(), "{bad:?}");
        }
    }
}
