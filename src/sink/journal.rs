//! The lookup journal of the day being written: settled lookups, appended as they arrive and
//! fsynced per chunk, so that a crashed run's rerun of the same day (same `as_of`, same job)
//! repeats at most the lookups that were in flight.
//!
//! `<out>/.journal-date=D.jsonl`, beside the staged partition: a header line naming the day, the
//! `as_of` and the job's fingerprint, then one line per conversation. Only settled answers are kept
//! (the conversation, or a 404/403/400, which a retry would not change); a transient failure is
//! asked again. A torn last line (a kill mid-write) is cut off on open. The file goes once the
//! day's partition is in place.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::api::wire::Conversation;
use crate::api::ApiError;

/// File name prefix of a day's journal in the output directory.
pub const JOURNAL_PREFIX: &str = ".journal-";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Header {
    journal: String,
    date: NaiveDate,
    as_of: String,
    fingerprint: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    id: String,
    #[serde(flatten)]
    answer: Answer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Found(Conversation),
    Failed(ApiError),
}

/// The open journal of one day.
pub struct LookupJournal {
    path: PathBuf,
    file: File,
    known: HashMap<String, Answer>,
    unsynced: bool,
}

/// Where the journal of `date` lives.
pub fn journal_path(out_dir: &Path, date: NaiveDate) -> PathBuf {
    out_dir.join(format!(
        "{JOURNAL_PREFIX}{}.jsonl",
        super::layout::partition_dir_name(date)
    ))
}

impl LookupJournal {
    /// Opens the day's journal, keeping what an earlier run of the same day, `as_of` and
    /// fingerprint settled; anything else there is discarded.
    pub fn open(
        out_dir: &Path,
        date: NaiveDate,
        as_of: &str,
        fingerprint: &serde_json::Value,
    ) -> anyhow::Result<LookupJournal> {
        let path = journal_path(out_dir, date);
        let header = Header {
            journal: "wrapup-audit lookups".into(),
            date,
            as_of: as_of.to_string(),
            fingerprint: fingerprint.clone(),
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        let (known, good_len) = read_entries(&text, &header);
        let mut j = LookupJournal {
            path,
            file,
            known,
            unsynced: false,
        };
        if good_len == 0 {
            j.file.set_len(0)?;
            j.file.seek(SeekFrom::Start(0))?;
            let mut line = serde_json::to_vec(&header)?;
            line.push(b'\n');
            j.file.write_all(&line)?;
            j.file.sync_data()?;
            super::atomic::sync_dir(out_dir)?;
        } else {
            // Cut a torn last line so that new lines start clean.
            j.file.set_len(good_len as u64)?;
            j.file.seek(SeekFrom::End(0))?;
        }
        Ok(j)
    }

    /// How many settled lookups an earlier run left.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The settled answer for conversation `id`, if a run of this day already had it.
    pub fn get(&self, id: &str) -> Option<Result<Conversation, ApiError>> {
        self.known.get(id).map(|a| match a {
            Answer::Found(c) => Ok(c.clone()),
            Answer::Failed(e) => Err(e.clone()),
        })
    }

    /// Appends a lookup's answer if it is settled (a transient failure is asked again next time).
    pub fn record(&mut self, id: &str, r: &Result<Conversation, ApiError>) -> anyhow::Result<()> {
        let answer = match r {
            Ok(c) => Answer::Found(c.clone()),
            Err(e) if e.is_permanent() => Answer::Failed(e.clone()),
            Err(_) => return Ok(()),
        };
        let mut line = serde_json::to_vec(&Entry {
            id: id.to_string(),
            answer,
        })?;
        line.push(b'\n');
        // One write per line: a kill leaves at most one torn line, which `open` cuts off.
        self.file
            .write_all(&line)
            .with_context(|| format!("cannot append to {}", self.path.display()))?;
        self.unsynced = true;
        crate::failpoint::hit("journal-after-record");
        Ok(())
    }

    /// Makes what was appended durable (called once per chunk).
    pub fn sync(&mut self) -> anyhow::Result<()> {
        if self.unsynced {
            self.file
                .sync_data()
                .with_context(|| format!("cannot sync {}", self.path.display()))?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Deletes the journal: its day is in place.
    pub fn remove(self) -> io::Result<()> {
        let LookupJournal { path, file, .. } = self;
        drop(file);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The entries of a journal whose header equals `want`, and the length of its intact prefix
/// (0: start over).
fn read_entries(text: &[u8], want: &Header) -> (HashMap<String, Answer>, usize) {
    let mut known = HashMap::new();
    let mut good = 0;
    let mut first = true;
    let mut rest = text;
    while let Some(end) = rest.iter().position(|b| *b == b'\n') {
        let line = &rest[..end];
        if first {
            match serde_json::from_slice::<Header>(line) {
                Ok(h) if h == *want => first = false,
                _ => return (HashMap::new(), 0),
            }
        } else {
            match serde_json::from_slice::<Entry>(line) {
                Ok(e) => {
                    known.insert(e.id, e.answer);
                }
                Err(_) => break,
            }
        }
        good += end + 1;
        rest = &rest[end + 1..];
    }
    (known, good)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(id: &str) -> Conversation {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "participants": [{"id": "p1", "purpose": "agent", "wrapupRequired": true,
                              "wrapup": {"code": "c1", "name": "Sale"}}]
        }))
        .unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    #[test]
    fn settled_answers_survive_a_reopen_with_the_same_as_of() {
        let dir = tempfile::tempdir().unwrap();
        let fp = serde_json::json!({"job": 1});
        let mut j = LookupJournal::open(dir.path(), day(), "T1", &fp).unwrap();
        assert!(j.is_empty());
        j.record("a", &Ok(conv("a"))).unwrap();
        j.record("b", &Err(ApiError::NotFound { op: "x".into() }))
            .unwrap();
        j.record("c", &Err(ApiError::Timeout { op: "x".into() }))
            .unwrap();
        j.sync().unwrap();
        drop(j);
        // A kill mid-write leaves a torn line.
        let p = journal_path(dir.path(), day());
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"id\":\"d\",\"fou").unwrap();
        drop(f);

        let mut j = LookupJournal::open(dir.path(), day(), "T1", &fp).unwrap();
        assert_eq!(j.len(), 2);
        let a = j.get("a").unwrap().unwrap();
        assert_eq!(
            a.participants[0].wrapup.as_ref().unwrap().code.as_deref(),
            Some("c1")
        );
        assert!(matches!(j.get("b"), Some(Err(ApiError::NotFound { .. }))));
        assert!(j.get("c").is_none(), "a timeout is not settled");
        j.record("e", &Ok(conv("e"))).unwrap();
        drop(j);
        let j = LookupJournal::open(dir.path(), day(), "T1", &fp).unwrap();
        assert_eq!(j.len(), 3, "the torn line was cut, the new one kept");

        // Another as_of or another job starts over.
        drop(j);
        assert!(LookupJournal::open(dir.path(), day(), "T2", &fp)
            .unwrap()
            .is_empty());
        let j = LookupJournal::open(dir.path(), day(), "T2", &fp).unwrap();
        assert!(j.is_empty());
        j.remove().unwrap();
        assert!(!p.exists());
    }
}
