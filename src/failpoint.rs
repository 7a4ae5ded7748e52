//! Crash points for tests: `WRAPUP_AUDIT_FAILPOINT=name[@n][:action],…` makes the n-th (default
//! first) pass through `hit(name)` end the process (`exit`, the default: no destructors, no
//! cleanup, like SIGKILL) or panic (`panic`). Unset, a `hit` is one relaxed atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// The variable that arms the crash points.
pub const VAR: &str = "WRAPUP_AUDIT_FAILPOINT";

/// The exit code of an `exit` crash point: what a shell reports for SIGKILL.
pub const CRASH_CODE: i32 = 137;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Exit,
    Panic,
}

struct Armed {
    points: HashMap<String, (u32, Action)>,
    seen: Mutex<HashMap<String, u32>>,
}

static ANY: AtomicBool = AtomicBool::new(true);
static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

fn parse(spec: &str) -> HashMap<String, (u32, Action)> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (point, action) = match s.split_once(':') {
                Some((p, "panic")) => (p, Action::Panic),
                Some((p, _)) => (p, Action::Exit),
                None => (s, Action::Exit),
            };
            let (name, nth) = match point.split_once('@') {
                Some((n, k)) => (n, k.parse().unwrap_or(1)),
                None => (point, 1),
            };
            (name.to_string(), (nth, action))
        })
        .collect()
}

fn armed() -> Option<&'static Armed> {
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(VAR).ok().filter(|s| !s.trim().is_empty());
            ANY.store(spec.is_some(), Ordering::Relaxed);
            spec.map(|s| Armed {
                points: parse(&s),
                seen: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

/// Passes the crash point `name`; ends the process here when it is armed for this pass.
pub fn hit(name: &str) {
    if !ANY.load(Ordering::Relaxed) {
        return;
    }
    let Some(a) = armed() else { return };
    let Some(&(nth, action)) = a.points.get(name) else {
        return;
    };
    let pass = {
        let mut seen = a.seen.lock().unwrap_or_else(|p| p.into_inner());
        let n = seen.entry(name.to_string()).or_default();
        *n += 1;
        *n
    };
    if pass != nth {
        return;
    }
    match action {
        Action::Panic => panic!("failpoint {name} reached"),
        Action::Exit => {
            eprintln!("failpoint {name}: ending the process");
            std::process::exit(CRASH_CODE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let p = parse("a, b@3:panic ,c:exit");
        assert_eq!(p["a"], (1, Action::Exit));
        assert_eq!(p["b"], (3, Action::Panic));
        assert_eq!(p["c"], (1, Action::Exit));
    }
}
