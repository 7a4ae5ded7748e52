//! Moving a run's finished files from the local staging folder to the object store, in the order
//! `outputs.md` promises: a day's files (each complete or absent), that day's stale objects gone,
//! `partitions.json`, `manifest.json`; at the end the run files with `manifest.json` last.

use std::collections::HashSet;
use std::path::Path as FsPath;

use object_store::buffered::BufWriter;
use object_store::ObjectStoreExt;
use tokio::io::AsyncWriteExt;

use super::Remote;
use crate::exit::{ExitStatus, Failure};
use crate::report::{INDEX_FILE, MANIFEST_FILE, SUMMARY_HTML, SUMMARY_JSON, SUMMARY_MD};
use crate::sink::{dataset_root, partition_dir_name, Format, Table, CATALOGS_DIR};
use crate::stats::PartitionRecord;

/// Objects up to this size go in one PUT; larger ones stream through a multipart upload in parts
/// of this size, at most `UPLOAD_CONCURRENCY` parts in flight: the memory a file upload holds.
pub const PART_BYTES: usize = 8 * 1024 * 1024;
const UPLOAD_CONCURRENCY: usize = 2;

impl Remote {
    /// Streams one local file to `rel` under the prefix. The object appears only when complete:
    /// a single PUT, or a multipart upload that is completed last (and aborted on error).
    pub async fn upload(&self, local: &FsPath, rel: &str) -> Result<u64, Failure> {
        let mut file = tokio::fs::File::open(local).await.map_err(|e| {
            Failure::new(
                ExitStatus::Output,
                format!("cannot read {} for upload: {e}", local.display()),
            )
        })?;
        let mut w = BufWriter::with_capacity(self.store.clone(), self.key(rel), PART_BYTES)
            .with_max_concurrency(UPLOAD_CONCURRENCY);
        let copied = tokio::io::copy(&mut file, &mut w).await;
        let done = match copied {
            Ok(n) => w.shutdown().await.map(|_| n),
            Err(e) => Err(e),
        };
        match done {
            Ok(n) => Ok(n),
            Err(e) => {
                let _ = w.abort().await;
                Err(Failure::new(
                    ExitStatus::Output,
                    format!(
                        "output {} cannot be written ({rel}): {}",
                        self.display,
                        super::one_line(&e.to_string())
                    ),
                ))
            }
        }
    }

    /// Makes the local staging folder a copy of the store's run state: no partitions, and the
    /// store's `manifest.json` and `partitions.json` (resume and `--lookback-days` read them).
    pub async fn pull_state(&self, local: &FsPath) -> Result<(), Failure> {
        let local_err = |e: std::io::Error| {
            Failure::new(
                ExitStatus::Output,
                format!("staging folder {} cannot be prepared: {e}", local.display()),
            )
        };
        for dir in Format::ALL.iter().map(|f| f.as_str()).chain([CATALOGS_DIR]) {
            match std::fs::remove_dir_all(local.join(dir)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(local_err(e)),
                _ => {}
            }
        }
        for name in [
            MANIFEST_FILE,
            INDEX_FILE,
            SUMMARY_JSON,
            SUMMARY_MD,
            SUMMARY_HTML,
        ] {
            let path = local.join(name);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(local_err(e)),
                _ => {}
            }
            if name != MANIFEST_FILE && name != INDEX_FILE {
                continue;
            }
            match self.store.get(&self.key(name)).await {
                Ok(got) => {
                    let bytes = got
                        .bytes()
                        .await
                        .map_err(|e| self.failure("cannot be read", &e))?;
                    crate::sink::write_file_atomically(&path, 0, |w| Ok(w.write_all(&bytes)?))
                        .map_err(|e| Failure::new(ExitStatus::Output, format!("{e:#}")))?;
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.failure("cannot be read", &e)),
            }
        }
        Ok(())
    }

    /// Paths of every object under the prefix, relative to it: what a resumed run may skip.
    pub async fn existing(&self) -> Result<HashSet<String>, Failure> {
        self.list_relative("")
            .await
            .map(|v| v.into_iter().collect())
            .map_err(|e| self.failure("cannot be listed", &e))
    }

    /// Publishes one finished day: its files, then the removal of objects of that day no longer
    /// written (another format, an older file), then `partitions.json` and `manifest.json` as the
    /// local checkpoint just wrote them. The day's local files go afterwards (bounded disk).
    pub async fn publish_partition(
        &self,
        local: &FsPath,
        part: &PartitionRecord,
    ) -> Result<(), Failure> {
        let mut written = HashSet::new();
        for f in &part.files {
            let rel = rel_str(&f.path);
            self.upload(&local.join(&f.path), &rel).await?;
            written.insert(rel);
        }
        let day = partition_dir_name(part.date);
        for format in Format::ALL {
            for &table in Table::ALL {
                let folder = format!("{}/{day}", rel_str(&dataset_root(format, table)));
                let keys = self
                    .list_relative(&folder)
                    .await
                    .map_err(|e| self.failure("cannot be listed", &e))?;
                for k in keys.into_iter().filter(|k| !written.contains(k)) {
                    self.store
                        .delete(&self.key(&k))
                        .await
                        .map_err(|e| self.failure("cannot be cleaned", &e))?;
                }
                let _ = std::fs::remove_dir_all(local.join(dataset_root(format, table)).join(&day));
            }
        }
        for name in [INDEX_FILE, MANIFEST_FILE] {
            self.upload(&local.join(name), name).await?;
        }
        Ok(())
    }

    /// Publishes the run files that exist locally: summaries, catalogs, `partitions.json`, and
    /// `manifest.json` last.
    pub async fn publish_run_files(&self, local: &FsPath) -> Result<(), Failure> {
        let mut names: Vec<String> = [SUMMARY_JSON, SUMMARY_MD, SUMMARY_HTML]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Ok(entries) = std::fs::read_dir(local.join(CATALOGS_DIR)) {
            let mut cats: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".csv"))
                .map(|n| format!("{CATALOGS_DIR}/{n}"))
                .collect();
            cats.sort();
            names.extend(cats);
        }
        names.push(INDEX_FILE.into());
        names.push(MANIFEST_FILE.into());
        for name in names {
            let path = local.join(&name);
            if path.is_file() {
                self.upload(&path, &name).await?;
            }
        }
        Ok(())
    }
}

/// A relative path with `/` separators, whatever the platform.
fn rel_str(p: &FsPath) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs `fut` to completion from synchronous code inside the run (the checkpoint callback). Needs
/// the multi-threaded runtime the binary uses: the other workers keep the store's connections
/// and the fetching task going meanwhile.
pub fn block_on<T>(
    fut: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    let h = tokio::runtime::Handle::try_current().map_err(|_| {
        Failure::new(
            ExitStatus::Output,
            "object storage needs the async runtime".to_string(),
        )
    })?;
    if h.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        return Err(Failure::new(
            ExitStatus::Output,
            "object storage destinations need the multi-threaded runtime".to_string(),
        ));
    }
    tokio::task::block_in_place(|| h.block_on(fut))
}
