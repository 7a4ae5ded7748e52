//! Crash-safe file creation: a file appears under its final name only when it is complete.
//!
//! Owns the temp-file-then-rename protocol ([`AtomicFile`], [`write_file_atomically`]) and the
//! directory fsyncs that make a rename durable. Does not know about report formats or partitions.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::file_info::FileInfo;

/// Marker between a final file name and the writer's pid in a temp file name.
pub(crate) const TMP_MARKER: &str = ".tmp-";

/// A file being written under a temporary name next to its final path.
///
/// [`AtomicFile::commit`] flushes, fsyncs and renames it into place; dropping it without a commit
/// deletes the temporary file, so an error anywhere leaves neither a partial final file nor litter.
pub struct AtomicFile {
    final_path: PathBuf,
    tmp_path: PathBuf,
    // `None` only after commit has taken the file.
    file: Option<BufWriter<File>>,
    bytes: u64,
}

impl AtomicFile {
    /// Opens `<final>.tmp-<pid>` in the directory of `final_path` (same directory, so the rename
    /// that commits it never crosses a file system).
    pub fn create(final_path: impl Into<PathBuf>) -> io::Result<AtomicFile> {
        let final_path = final_path.into();
        let tmp_path = tmp_path_for(&final_path)?;
        // Truncate rather than create_new: a leftover of a killed run with a recycled pid is
        // garbage, not something to fail on.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)?;
        Ok(AtomicFile {
            final_path,
            tmp_path,
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            bytes: 0,
        })
    }

    /// The name the file gets on commit.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// The temporary name the file is written under.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp_path
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Flushes, fsyncs, renames into place and fsyncs the directory so the new name survives a
    /// power loss. Returns the size of the file. An existing file of the final name is replaced.
    pub fn commit(mut self) -> io::Result<u64> {
        let writer = self.file.take().expect("file present until commit");
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp_path, &self.final_path)?;
        sync_dir(parent_dir(&self.final_path))?;
        Ok(self.bytes)
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("atomic file already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.writer()?.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(writer) = self.file.take() {
            // Not committed: throw the partial content away. Errors are moot here; a leftover is
            // removed by the next run's stale-file cleanup.
            drop(writer.into_parts());
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// Writes `path` through an [`AtomicFile`]: `f` writes the content, then the file is committed.
///
/// If `f` fails, nothing appears under `path` and the temporary file is removed. `rows` is the
/// caller's row count, carried into the returned [`FileInfo`] (whose `path` is `path` as given).
pub fn write_file_atomically(
    path: &Path,
    rows: u64,
    f: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<()>,
) -> anyhow::Result<FileInfo> {
    let mut file = AtomicFile::create(path)
        .with_context(|| format!("cannot create a temporary file for {}", path.display()))?;
    f(&mut file).with_context(|| format!("cannot write {}", path.display()))?;
    let bytes = file
        .commit()
        .with_context(|| format!("cannot commit {}", path.display()))?;
    Ok(FileInfo {
        path: path.to_path_buf(),
        bytes,
        rows,
    })
}

/// Fsyncs a directory so that renames and creations inside it are durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened for fsync on Windows; NTFS journals the rename itself.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// True for names `AtomicFile` gives its temporary files: `<name>.tmp-<digits>`.
pub(crate) fn is_tmp_name(name: &str) -> bool {
    match name.rsplit_once(TMP_MARKER) {
        Some((stem, pid)) => {
            !stem.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn tmp_path_for(final_path: &Path) -> io::Result<PathBuf> {
    let name = final_path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", final_path.display()),
        )
    })?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!("{TMP_MARKER}{}", std::process::id()));
    Ok(final_path.with_file_name(tmp_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn dropped_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"partial").unwrap();
            f.flush().unwrap();
            assert!(f.tmp_path().exists());
            assert!(!path.exists());
        }
        assert!(names_in(dir.path()).is_empty());
    }

    #[test]
    fn commit_publishes_exact_content_and_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        let mut f = AtomicFile::create(&path).unwrap();
        assert_eq!(
            f.tmp_path().file_name().unwrap().to_string_lossy(),
            format!("report.csv.tmp-{}", std::process::id())
        );
        f.write_all(b"a,b\n1,2\n").unwrap();
        assert_eq!(f.commit().unwrap(), 8);
        assert_eq!(fs::read(&path).unwrap(), b"a,b\n1,2\n");
        assert_eq!(names_in(dir.path()), vec!["report.csv".to_string()]);
    }

    #[test]
    fn commit_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        fs::write(&path, b"old old old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn write_file_atomically_reports_size_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        let info = write_file_atomically(&path, 2, |w| {
            w.write_all(b"hello")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(
            info,
            FileInfo {
                path: path.clone(),
                bytes: 5,
                rows: 2
            }
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), 5);
    }

    #[test]
    fn write_file_atomically_failure_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        fs::write(&path, b"previous").unwrap();
        let err = write_file_atomically(&path, 0, |w| {
            w.write_all(b"half")?;
            anyhow::bail!("boom")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("boom"));
        assert_eq!(fs::read(&path).unwrap(), b"previous");
        assert_eq!(names_in(dir.path()), vec!["x.txt".to_string()]);
    }

    #[test]
    fn tmp_names_are_recognised() {
        assert!(is_tmp_name("conversations.csv.tmp-1234"));
        assert!(!is_tmp_name("conversations.csv"));
        assert!(!is_tmp_name("notes.tmp-draft"));
        assert!(!is_tmp_name(".tmp-12"));
        assert!(!is_tmp_name("a.tmp-"));
    }
}
