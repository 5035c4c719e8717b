//! Where uploaded import files wait to be checked and applied. They hold personal data (ID
//! numbers, phones), so they stay in the installation's data folder ([`Config::data_dir`]),
//! never in the system's shared temporary folder, readable by this process's user only, and
//! none outlives the instance that received it, even one that was killed.
//!
//! Layout: `DATA/ringline-uploads/` (mode 0700) holds one folder per running instance,
//! `<id>/` (0700; `id` 32 random hex digits), with its files (0600), and beside it the
//! instance's lock file `<id>.lock`, on which the instance holds an exclusive lock (`flock`)
//! for as long as it runs. The operating system releases the lock when the process ends, however
//! it ends. At start, every instance folder whose lock is free belongs to an instance that is
//! gone and is removed; the folders of running instances (other `serve` processes sharing the
//! data folder) are kept, and nothing else in the folder is touched. An instance that stops
//! normally removes its own folder.
//!
//! [`Config::data_dir`]: crate::config::Config::data_dir

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The uploads folder's name inside the data folder.
pub const UPLOADS_FOLDER: &str = "ringline-uploads";

/// The uploads folder of one instance (created on first use) and the removal of leftovers.
#[derive(Debug)]
pub struct Uploads {
    root: PathBuf,
    mine: Mutex<Option<Instance>>,
}

/// This instance's folder, its lock file and the open file holding the lock.
#[derive(Debug)]
struct Instance {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // The folder first, then the lock file, while the lock is still held.
        let _ = fs::remove_dir_all(&self.dir);
        let _ = fs::remove_file(&self.lock_path);
    }
}

/// Whether `name` is an instance id: 32 lower-case hex digits.
fn is_id(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Creates `path` (and missing parents) as a folder only this user may enter (0700 on Unix),
/// and narrows an existing one to 0700.
fn private_dir(path: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        b.mode(0o700);
        b.create(path)?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    b.create(path)?;
    Ok(())
}

/// A new file readable and writable by this user only (0600 on Unix); fails if it exists.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Whether the instance owning `lock_path` still runs: its lock file exists and is locked.
/// When unsure (the file cannot be opened for another reason), it counts as running.
fn running(lock_path: &Path) -> bool {
    match File::open(lock_path) {
        Err(e) => e.kind() != io::ErrorKind::NotFound,
        // Taking the lock proves the owner gone; it is released when `f` is dropped.
        Ok(f) => !matches!(f.try_lock(), Ok(())),
    }
}

impl Uploads {
    /// The uploads folder `root` (usually `DATA/ringline-uploads`); nothing is created yet.
    pub fn new(root: PathBuf) -> Uploads {
        Uploads {
            root,
            mine: Mutex::new(None),
        }
    }

    /// The uploads folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// This instance's private folder, created (with the uploads folder) on first use.
    ///
    /// # Errors
    /// The folder or the lock file cannot be created.
    pub fn dir(&self) -> io::Result<PathBuf> {
        let mut mine = self.mine.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = &*mine {
            return Ok(i.dir.clone());
        }
        private_dir(&self.root)?;
        let id = {
            use rand::RngCore;
            let mut b = [0u8; 16];
            rand::rng().fill_bytes(&mut b);
            hex::encode(b)
        };
        // The lock is taken under a name no sweep looks at, then renamed into place, so no
        // other instance ever sees this lock file unlocked.
        let pending = self.root.join(format!(".{id}.lock.new"));
        let lock = create_private(&pending)?;
        lock.try_lock().map_err(io::Error::from)?;
        let lock_path = self.root.join(format!("{id}.lock"));
        fs::rename(&pending, &lock_path)?;
        let dir = self.root.join(&id);
        let instance = Instance {
            dir: dir.clone(),
            lock_path,
            _lock: lock,
        };
        private_dir(&dir)?;
        *mine = Some(instance);
        Ok(dir)
    }

    /// Removes what instances that no longer run left behind: their folders with the uploads
    /// in them, and their lock files. Returns how many instances' leftovers were removed.
    ///
    /// # Errors
    /// The uploads folder cannot be read, or a leftover cannot be removed.
    pub fn remove_leftovers(&self) -> io::Result<usize> {
        let entries = match fs::read_dir(&self.root) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            other => other?,
        };
        let mine = self
            .mine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|i| i.lock_path.clone());
        // Instance ids present, by folder or by lock file.
        let mut ids = std::collections::BTreeSet::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            match name.strip_suffix(".lock") {
                Some(id) if is_id(id) => {
                    ids.insert(id.to_string());
                }
                _ if is_id(name) && entry.file_type()?.is_dir() => {
                    ids.insert(name.to_string());
                }
                _ => {}
            }
        }
        let mut removed = 0;
        for id in ids {
            let lock_path = self.root.join(format!("{id}.lock"));
            if mine.as_ref() == Some(&lock_path) || running(&lock_path) {
                continue;
            }
            let dir = self.root.join(&id);
            if dir.is_dir() {
                fs::remove_dir_all(&dir)?;
            }
            match fs::remove_file(&lock_path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            removed += 1;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn leftovers_of_gone_instances_are_removed_and_nothing_else() {
        let data = tempfile::TempDir::new().expect("temp");
        let root = data.path().join(UPLOADS_FOLDER);
        // A running instance with an upload.
        let running = Uploads::new(root.clone());
        let running_dir = running.dir().expect("its folder");
        create_private(&running_dir.join("a.csv")).expect("upload");
        #[cfg(unix)]
        {
            assert_eq!(mode(&root), 0o700);
            assert_eq!(mode(&running_dir), 0o700);
            assert_eq!(mode(&running_dir.join("a.csv")), 0o600);
        }
        // What a killed instance leaves: its folder with an upload and an unlocked lock file.
        let gone = "0123456789abcdef0123456789abcdef";
        fs::create_dir(root.join(gone)).expect("folder");
        fs::write(root.join(gone).join("b.csv"), "id numbers").expect("upload");
        fs::write(root.join(format!("{gone}.lock")), "").expect("lock file");
        // A killed instance's lone lock file, and a folder whose lock file is missing.
        let lone = "fedcba9876543210fedcba9876543210";
        fs::write(root.join(format!("{lone}.lock")), "").expect("lock file");
        let bare = "00000000000000000000000000000000";
        fs::create_dir(root.join(bare)).expect("folder");
        // Not this product's: kept.
        fs::write(root.join("notes.txt"), "keep").expect("file");
        fs::create_dir(root.join("0123456789ABCDEF0123456789ABCDEF")).expect("folder");

        let starting = Uploads::new(root.clone());
        assert_eq!(starting.remove_leftovers().expect("sweep"), 3);
        let mut left: Vec<String> = fs::read_dir(&root)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let running_id = running_dir.file_name().expect("id").to_string_lossy().into_owned();
        let mut expected = vec![
            "0123456789ABCDEF0123456789ABCDEF".to_string(),
            "notes.txt".to_string(),
            running_id.clone(),
            format!("{running_id}.lock"),
        ];
        expected.sort();
        assert_eq!(left, expected);
        assert!(
            running_dir.join("a.csv").exists(),
            "the running instance's upload is kept"
        );

        // A normal stop removes the instance's own folder and lock file.
        drop(running);
        assert!(!running_dir.exists());
        assert!(!root.join(format!("{running_id}.lock")).exists());
        assert_eq!(starting.remove_leftovers().expect("sweep"), 0);
    }
}
