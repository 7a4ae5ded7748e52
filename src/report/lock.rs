//! The output lock: one run at a time per output directory.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use chrono::Utc;

use super::LOCK_FILE;
use crate::exit::{ExitStatus, Failure};
use crate::sink;
use crate::time::iso_ms;

/// An exclusive lock on the output directory, held for the whole run.
///
/// It is an OS file lock, so a run that dies (even by SIGKILL) releases it: a lock file left behind
/// by a dead process is stale by construction and the next run simply takes it.
pub struct OutputLock {
    _file: File,
}

impl OutputLock {
    pub fn acquire(dir: &Path) -> Result<OutputLock, Failure> {
        let output = |what: &str, e: std::io::Error| {
            Failure::new(
                ExitStatus::Output,
                format!("output directory {} {what}: {e}", dir.display()),
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| output("cannot be created", e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| output("is not writable", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(Failure::new(
                    ExitStatus::Locked,
                    format!(
                        "another run holds the lock on {} ({}); wait for it to finish or use another --output-dir",
                        dir.display(),
                        holder.trim()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(output("cannot be locked", e)),
        }
        file.set_len(0).map_err(|e| output("is not writable", e))?;
        write!(
            file,
            "pid {} since {}",
            std::process::id(),
            iso_ms(Utc::now())
        )
        .map_err(|e| output("is not writable", e))?;
        match sink::cleanup_stale_staging(dir) {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(
                    removed = removed.len(),
                    "Removed leftovers of an interrupted run"
                );
            }
            Ok(_) => {}
            Err(e) => return Err(output("cannot be cleaned", e)),
        }
        // Never two layouts side by side: an old single-folder output moves into the roots first.
        match sink::migrate::migrate_legacy_layout(dir) {
            Ok(m) if m.files > 0 => tracing::info!(
                partitions = m.partitions,
                files = m.files,
                "Moved {} day folder(s) of an earlier version's layout into one folder per table and format",
                m.partitions
            ),
            Ok(_) => {}
            Err(e) => return Err(Failure::new(ExitStatus::Output, format!("{e:#}"))),
        }
        Ok(OutputLock { _file: file })
    }
}
