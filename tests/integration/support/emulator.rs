//! A storage emulator behind one of the `py/` launchers: it prints `PORT n` once it listens and
//! serves until its stdin closes. Dropping the handle closes stdin, waits for it to end (a few
//! seconds at most, then kills it) and reaps it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Emulator {
    child: Child,
    pub port: u16,
}

impl Emulator {
    /// Starts `tests/integration/py/<script>` with `python` and waits for its `PORT` line.
    pub fn start(python: &Path, script: &str, args: &[&str]) -> Emulator {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/integration/py")
            .join(script);
        let mut child = Command::new(python)
            .arg(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{script} does not start: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
        Emulator { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // A closed stdin lets the launcher stop what it started (Azurite is a node process of its
        // own); killed only if it has not ended within a few seconds.
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
