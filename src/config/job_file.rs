//! Reading a job file so that every problem in it is found in one pass.
//!
//! `toml::from_str::<RawJob>` stops at the first wrong key or type. Here the file is parsed as a plain
//! table first (a syntax error still ends the read: nothing after it can be trusted), then each key is
//! checked on its own, so every unknown key and every wrong type is reported, each with its line.

use std::path::Path;

use super::raw::RawJob;

/// Every problem found, reported together on one line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

/// Reads a job file; every unknown key and wrong type is reported, each with its line.
pub fn load_job(path: &Path) -> Result<RawJob, ConfigError> {
    let (raw, errors) = load_lenient(path)?;
    if errors.is_empty() {
        Ok(raw)
    } else {
        Err(ConfigError(errors))
    }
}

/// The job with every valid key, and one message per invalid key.
pub fn load_lenient(path: &Path) -> Result<(RawJob, Vec<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(vec![format!(
            "cannot read job file {}: {e}",
            path.display()
        )])
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(" (line {})", line_of(&text, s.start)))
            .unwrap_or_default();
        ConfigError(vec![format!(
            "invalid job file {}{at}: {}",
            path.display(),
            e.message().trim()
        )])
    })?;
    let mut errors = Vec::new();
    let mut good = toml::Table::new();
    check_table(&text, &[], &table, &mut good, &mut errors);
    // In file order, not key order.
    errors.sort_by_key(|(line, _)| line.unwrap_or(usize::MAX));
    let errors = errors
        .into_iter()
        .map(|(line, e)| {
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            format!("invalid job file {}{at}: {e}", path.display())
        })
        .collect();
    // Every key left in `good` passed on its own, so together they pass too.
    let raw = toml::Value::Table(good).try_into().unwrap_or_default();
    Ok((raw, errors))
}

/// Checks each key of `table` (at `path` inside the file) alone and copies the valid ones into `good`.
fn check_table(
    text: &str,
    path: &[&str],
    table: &toml::Table,
    good: &mut toml::Table,
    errors: &mut Vec<(Option<usize>, String)>,
) {
    for (key, value) in table {
        let mut at: Vec<&str> = path.to_vec();
        at.push(key);
        match value {
            // A sub-table is checked key by key too, so one bad key in it hides no other.
            toml::Value::Table(sub) if accepts(&at, &toml::Value::Table(toml::Table::new())) => {
                let mut sub_good = toml::Table::new();
                check_table(text, &at, sub, &mut sub_good, errors);
                good.insert(key.clone(), toml::Value::Table(sub_good));
            }
            _ => match try_alone(&at, value) {
                Ok(()) => {
                    good.insert(key.clone(), value.clone());
                }
                Err(msg) => errors.push((find_line(text, &at), format!("{}: {msg}", at.join(".")))),
            },
        }
    }
}

/// Nests `value` under `path` and deserializes that alone as a job.
fn try_alone(path: &[&str], value: &toml::Value) -> Result<(), String> {
    let mut v = value.clone();
    for key in path.iter().rev() {
        let mut t = toml::Table::new();
        t.insert(key.to_string(), v);
        v = toml::Value::Table(t);
    }
    v.try_into::<RawJob>()
        .map(|_| ())
        .map_err(|e| e.message().trim().replace('\n', " "))
}

fn accepts(path: &[&str], value: &toml::Value) -> bool {
    try_alone(path, value).is_ok()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `path` is set: `key = …` under its `[table]` header, or a dotted `a.b = …`.
fn find_line(text: &str, path: &[&str]) -> Option<usize> {
    let (key, parents) = path.split_last()?;
    let mut header: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(h) = l.strip_prefix('[') {
            let h = h.trim_start_matches('[');
            let name = h.split(']').next().unwrap_or("");
            header = name.split('.').map(|s| s.trim().to_string()).collect();
            if header.iter().map(String::as_str).eq(path.iter().copied()) {
                return Some(i + 1);
            }
            continue;
        }
        let Some((lhs, _)) = l.split_once('=') else {
            continue;
        };
        let lhs: Vec<String> = lhs
            .split('.')
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect();
        let full: Vec<&str> = header
            .iter()
            .chain(lhs.iter())
            .map(String::as_str)
            .collect();
        if full.len() == parents.len() + 1
            && full.last() == Some(key)
            && full[..parents.len()] == *parents
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.toml");
        std::fs::write(&p, text).unwrap();
        load_lenient(&p).unwrap().1
    }

    #[test]
    fn every_type_error_is_reported_with_its_line() {
        let errs = errors_of(
            "name = \"x\"\nconcurrency = \"eight\"\npage_size = -3\nlookup_budgit = 3\n\
             [filters]\nmedia_types = \"voice\"\nqueue_ids = [1]\n[simulator]\nseed = \"s\"\n",
        );
        let all = errs.join("\n");
        assert_eq!(errs.len(), 6, "{all}");
        for (key, line) in [
            ("concurrency", 2),
            ("page_size", 3),
            ("lookup_budgit", 4),
            ("filters.media_types", 6),
            ("filters.queue_ids", 7),
            ("simulator.seed", 9),
        ] {
            assert!(
                errs.iter()
                    .any(|e| e.contains(&format!("(line {line}): {key}:"))),
                "{key} at line {line} missing in:\n{all}"
            );
        }
    }

    #[test]
    fn valid_keys_survive_next_to_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.toml");
        std::fs::write(
            &p,
            "concurrency = 3\npage_size = \"x\"\n[filters]\nqueue_ids = [\"q\"]\nmedia_types = 5\n",
        )
        .unwrap();
        let (raw, errs) = load_lenient(&p).unwrap();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(raw.concurrency, Some(3));
        assert_eq!(raw.page_size, None);
        assert_eq!(raw.filters.unwrap().queue_ids, Some(vec!["q".to_string()]));
    }

    #[test]
    fn a_table_given_as_a_value_is_one_error() {
        let errs = errors_of("filters = 3\nsimulator = \"yes\"\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
    }
}
