//! The per-run data folder mounted read-only at /data: created only under a
//! private parent (owned by the server's uid, writable by nobody else, reached
//! through directories no other user can change), with no window for a swap,
//! and checked again right before Docker resolves its path.

use std::path::{Path, PathBuf};

/// A per-run directory holding issues.json and attachments/, removed on drop.
///
/// The parent must be private: a directory owned by the server's uid, not
/// writable by anyone else, and reached only through directories no other user
/// can change (sticky ones like /tmp count as safe for entries we own). Then no
/// other local user can plant, rename or swap anything on the path Docker
/// resolves, so Docker mounts exactly the directory created here; [`DataDir::verify`]
/// re-checks that identity right before the container is created.
pub(super) struct DataDir {
    pub(super) path: PathBuf,
    /// Device and inode of the directory as created.
    id: (u64, u64),
}

/// Why the data directory cannot be used: a fact for the error text, with the fix.
#[derive(Debug, thiserror::Error)]
pub(super) enum DataDirError {
    #[error("{path} is owned by uid {owner}, not by this server's uid {me}")]
    ForeignOwner { path: String, owner: u32, me: u32 },
    #[error("{path} is writable by other users (mode {mode:o})")]
    WritableByOthers { path: String, mode: u32 },
    #[error("{path} is not a directory (a symlink or a file)")]
    NotADirectory { path: String },
    #[error("{path} was replaced after it was created")]
    Swapped { path: String },
    #[error("{name:?} is not a plain file name")]
    UnsafeName { name: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl DataDirError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }
}

/// Whether a directory's mode lets users other than its owner change its entries
/// (sticky directories only let them change their own entries).
fn writable_by_others(mode: u32) -> bool {
    mode & 0o022 != 0 && mode & 0o1000 == 0
}

impl DataDir {
    /// Creates the run's directory under `parent` with `issues.json` (if given)
    /// and `attachments/NAME` for each file; every name must be a single plain
    /// component (no separator, no `.`/`..`, no leading dot, no control character).
    pub(super) fn create(
        parent: &Path,
        issues: Option<&[u8]>,
        attachments: &[(String, Vec<u8>)],
    ) -> Result<Self, DataDirError> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        // Checked before anything is created: a caller's bug must not become a path outside.
        if let Some((name, _)) = attachments.iter().find(|(name, _)| !plain_name(name)) {
            return Err(DataDirError::UnsafeName { name: name.clone() });
        }
        let me = nix::unistd::geteuid().as_raw();
        // The parent may be listed by its owner only (0711): others cannot find the
        // random per-run names, yet dockerd and uid 65534 can traverse into them.
        match std::fs::DirBuilder::new().mode(0o700).create(parent) {
            Ok(()) => std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711))
                .map_err(|e| DataDirError::io(parent, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(DataDirError::io(parent, e)),
        }
        check_private(parent, me)?;
        let path = parent.join(format!("jira-mcp-data-{}", uuid::Uuid::new_v4().simple()));
        // World-traversable so uid 65534 inside can read it; the mount itself is read-only.
        std::fs::DirBuilder::new().mode(0o755).create(&path).map_err(|e| DataDirError::io(&path, e))?;
        let meta = std::fs::symlink_metadata(&path).map_err(|e| DataDirError::io(&path, e))?;
        let dir = Self { path, id: (meta.dev(), meta.ino()) };
        if !meta.is_dir() || meta.uid() != me {
            return Err(DataDirError::Swapped { path: dir.path.display().to_string() });
        }
        std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| DataDirError::io(&dir.path, e))?;
        if let Some(bytes) = issues {
            write_new(&dir.path.join("issues.json"), bytes)?;
        }
        if !attachments.is_empty() {
            let sub = dir.path.join("attachments");
            std::fs::DirBuilder::new().mode(0o755).create(&sub).map_err(|e| DataDirError::io(&sub, e))?;
            std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| DataDirError::io(&sub, e))?;
            for (name, bytes) in attachments {
                write_new(&sub.join(name), bytes)?;
            }
        }
        dir.verify()?;
        Ok(dir)
    }

    /// The directory at `path` is still the one created (same device and inode,
    /// a real directory): nothing was swapped in since.
    pub(super) fn verify(&self) -> Result<(), DataDirError> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(&self.path).map_err(|e| DataDirError::io(&self.path, e))?;
        if meta.is_dir() && (meta.dev(), meta.ino()) == self.id {
            Ok(())
        } else {
            Err(DataDirError::Swapped { path: self.path.display().to_string() })
        }
    }
}

/// Writes a new file readable by all (uid 65534 reads it inside): create_new is
/// O_EXCL, and O_NOFOLLOW never follows a planted symlink, never reuses a file.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    use std::{
        io::Write,
        os::unix::fs::{OpenOptionsExt, PermissionsExt},
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| DataDirError::io(path, e))?;
    file.write_all(bytes).map_err(|e| DataDirError::io(path, e))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(|e| DataDirError::io(path, e))
}

/// One plain path component: not empty, no separator or NUL, no leading dot
/// (so not `.` or `..`), no control character, at most 255 bytes.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// `dir` is a real directory owned by `me` and writable by nobody else, and no
/// directory above it lets another user rename it away.
fn check_private(dir: &Path, me: u32) -> Result<(), DataDirError> {
    use std::os::unix::fs::MetadataExt;
    let show = || dir.display().to_string();
    let meta = std::fs::symlink_metadata(dir).map_err(|e| DataDirError::io(dir, e))?;
    if !meta.is_dir() {
        return Err(DataDirError::NotADirectory { path: show() });
    }
    if meta.uid() != me {
        return Err(DataDirError::ForeignOwner { path: show(), owner: meta.uid(), me });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(DataDirError::WritableByOthers { path: show(), mode: meta.mode() & 0o7777 });
    }
    // Ancestors (resolved, since the path Docker gets is resolved the same way).
    let real = std::fs::canonicalize(dir).map_err(|e| DataDirError::io(dir, e))?;
    for ancestor in real.ancestors().skip(1) {
        let m = std::fs::metadata(ancestor).map_err(|e| DataDirError::io(ancestor, e))?;
        if (m.uid() != me && m.uid() != 0) || writable_by_others(m.mode()) {
            let path = ancestor.display().to_string();
            return Err(if writable_by_others(m.mode()) {
                DataDirError::WritableByOthers { path, mode: m.mode() & 0o7777 }
            } else {
                DataDirError::ForeignOwner { path, owner: m.uid(), me }
            });
        }
    }
    Ok(())
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!("cannot remove {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jira-mcp-test-{name}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    #[test]
    fn a_fresh_parent_is_created_private_and_the_run_dir_holds_the_data() {
        let root = scratch("fresh");
        let parent = root.join("data");
        let dir = DataDir::create(&parent, Some(b"[1]"), &[]).unwrap();
        let mode = std::fs::metadata(&parent).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o711);
        assert_eq!(std::fs::read(dir.path.join("issues.json")).unwrap(), b"[1]");
        let path = dir.path.clone();
        drop(dir);
        assert!(!path.exists(), "removed on drop");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn attachments_land_under_attachments_and_unsafe_names_are_refused_before_anything_is_written() {
        let root = scratch("files");
        let parent = root.join("data");
        let files = vec![("a.log".to_owned(), b"x".to_vec()), ("b c.png".to_owned(), b"y".to_vec())];
        let dir = DataDir::create(&parent, None, &files).unwrap();
        assert_eq!(std::fs::read(dir.path.join("attachments/a.log")).unwrap(), b"x");
        assert_eq!(std::fs::read(dir.path.join("attachments/b c.png")).unwrap(), b"y");
        assert!(!dir.path.join("issues.json").exists());
        drop(dir);
        for bad in ["../../etc/passwd", "..", ".", "", "a/b", ".hidden", "a\0b", "a\nb"] {
            let files = vec![("ok.txt".to_owned(), b"x".to_vec()), (bad.to_owned(), b"y".to_vec())];
            let err = DataDir::create(&parent, Some(b"[]"), &files).err().expect("refused");
            assert_eq!(err.to_string(), format!("{bad:?} is not a plain file name"));
        }
        assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0, "nothing was created for refused names");
        std::fs::remove_dir_all(root).unwrap();
    }

    // Red-team finding 1: a local user pre-created the parent with mode 0777 and read every run's data.
    #[test]
    fn a_world_writable_parent_is_refused() {
        let root = scratch("open");
        let parent = root.join("data");
        std::fs::create_dir(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = DataDir::create(&parent, Some(b"[]"), &[]).err().expect("refused");
        assert_eq!(err.to_string(), format!("{} is writable by other users (mode 777)", parent.display()));
        assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0, "nothing was written into it");
        // Control: the same directory made private is accepted.
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o711)).unwrap();
        assert!(DataDir::create(&parent, Some(b"[]"), &[]).is_ok());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_parent_owned_by_another_user_is_refused() {
        let me = nix::unistd::geteuid();
        let root = scratch("foreign");
        // As root, hand a fresh directory to nobody; otherwise / is owned by someone else (root).
        let parent = if me.is_root() {
            let p = root.join("data");
            std::fs::create_dir(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o711)).unwrap();
            std::os::unix::fs::chown(&p, Some(65534), None).unwrap();
            p
        } else {
            PathBuf::from("/")
        };
        let owner = if me.is_root() { 65534 } else { 0 };
        let err = DataDir::create(&parent, Some(b"[]"), &[]).err().expect("refused");
        assert_eq!(
            err.to_string(),
            format!("{} is owned by uid {owner}, not by this server's uid {me}", parent.display())
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_symlinked_parent_is_refused() {
        let root = scratch("link");
        let target = root.join("elsewhere");
        std::fs::create_dir(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o711)).unwrap();
        let parent = root.join("data");
        std::os::unix::fs::symlink(&target, &parent).unwrap();
        let err = DataDir::create(&parent, Some(b"[]"), &[]).err().expect("refused");
        assert_eq!(err.to_string(), format!("{} is not a directory (a symlink or a file)", parent.display()));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_parent_below_a_directory_others_can_write_is_refused() {
        let root = scratch("ancestor");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let parent = root.join("data");
        let err = DataDir::create(&parent, Some(b"[]"), &[]).err().expect("refused");
        assert_eq!(err.to_string(), format!("{} is writable by other users (mode 777)", root.display()));
        std::fs::remove_dir_all(root).unwrap();
    }

    // Red-team finding 1: the per-run folder was swapped for a symlink to a root-only host folder.
    #[test]
    fn a_swapped_run_directory_is_detected() {
        let root = scratch("swap");
        let parent = root.join("data");
        let dir = DataDir::create(&parent, Some(b"[]"), &[]).unwrap();
        assert!(dir.verify().is_ok(), "control: the untouched directory verifies");
        let secret = root.join("secret");
        std::fs::create_dir(&secret).unwrap();
        let moved = root.join("moved");
        std::fs::rename(&dir.path, &moved).unwrap();
        std::os::unix::fs::symlink(&secret, &dir.path).unwrap();
        let err = dir.verify().unwrap_err();
        assert_eq!(err.to_string(), format!("{} was replaced after it was created", dir.path.display()));
        // Same name, a real directory again, but not the one created: still detected.
        std::fs::remove_file(&dir.path).unwrap();
        std::fs::create_dir(&dir.path).unwrap();
        assert!(matches!(dir.verify(), Err(DataDirError::Swapped { .. })));
        drop(dir);
        std::fs::remove_dir_all(root).unwrap();
    }
}
