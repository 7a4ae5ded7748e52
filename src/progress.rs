//! Progress on a terminal: indicatif bars for days, conversations and lookups, with rates and ETA.
//!
//! Bars draw only when stderr is a terminal and `--quiet` is off; under cron or a scheduler the same
//! facts reach the log as one line per day, with no control characters. Log lines printed while bars
//! are shown go through [`suspend`], so they never tear a bar.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

static MULTI: OnceLock<MultiProgress> = OnceLock::new();

/// When the current quota pause ends; the bars show it as their state while it lasts.
pub struct Pause(Mutex<Option<Instant>>);

impl Pause {
    pub const fn new() -> Pause {
        Pause(Mutex::new(None))
    }

    /// Records a pause until `until`. True when none was running: the caller logs it once,
    /// however many tasks are waiting behind it.
    pub fn begin(&self, until: Instant) -> bool {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let new = p.is_none_or(|cur| cur <= Instant::now());
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
        }
        new
    }

    /// The bars' state text: the pause and its countdown, or nothing.
    pub fn state(&self, now: Instant) -> String {
        match *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(until) if until > now => format!(
                "paused for the API quota, resumes in {} s",
                (until - now).as_secs_f64().ceil() as u64
            ),
            _ => String::new(),
        }
    }
}

impl Default for Pause {
    fn default() -> Self {
        Pause::new()
    }
}

static PAUSE: Pause = Pause::new();

/// Records a quota pause of the process's run (see [`Pause::begin`]).
pub fn quota_pause(until: Instant) -> bool {
    PAUSE.begin(until)
}

/// Runs `f` (a log write) with the bars hidden, if any are shown.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match MULTI.get() {
        Some(m) => m.suspend(f),
        None => f(),
    }
}

/// The bars of one run; every method is a no-op when hidden. Clones share the bars.
#[derive(Clone)]
pub struct Progress {
    days: ProgressBar,
    conversations: ProgressBar,
    lookups: ProgressBar,
}

impl Progress {
    /// Bars when `visible`, otherwise hidden ones that cost nothing.
    pub fn new(total_days: u64, visible: bool) -> Progress {
        if !visible {
            return Progress {
                days: ProgressBar::hidden(),
                conversations: ProgressBar::hidden(),
                lookups: ProgressBar::hidden(),
            };
        }
        let multi = MULTI
            .get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        let days = multi.add(ProgressBar::new(total_days));
        days.set_style(
            ProgressStyle::with_template(
                "{prefix:>13} [{bar:30}] {pos}/{len} days  {msg}  eta {eta}  {pause}",
            )
            .expect("template")
            .with_key("pause", |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&PAUSE.state(Instant::now()));
            })
            .progress_chars("=> "),
        );
        days.set_prefix("days");
        days.enable_steady_tick(Duration::from_millis(250));
        let counter = |name: &str, template: &str| {
            let b = multi.add(ProgressBar::no_length());
            b.set_style(
                ProgressStyle::with_template(template)
                    .expect("template")
                    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", s.per_sec());
                    }),
            );
            b.set_prefix(name.to_string());
            b.enable_steady_tick(Duration::from_millis(250));
            b
        };
        let conversations = counter("conversations", "{prefix:>13} {pos} ({rate})");
        let lookups = counter("lookups", "{prefix:>13} {pos}/{len} ({rate}, eta {eta})");
        Progress {
            days,
            conversations,
            lookups,
        }
    }

    /// True when bars should draw: stderr is a terminal, the run is not quiet and logs are for people.
    pub fn wanted(quiet: bool, text_logs: bool) -> bool {
        !quiet && text_logs && std::io::IsTerminal::is_terminal(&std::io::stderr())
    }

    pub fn day_started(&self, date: chrono::NaiveDate) {
        self.days.set_message(format!("date={date}"));
    }

    pub fn page(&self, conversations: u64) {
        self.conversations.inc(conversations);
    }

    pub fn lookups_planned(&self, n: u64) {
        self.lookups.inc_length(n);
    }

    pub fn lookup_done(&self) {
        self.lookups.inc(1);
    }

    pub fn day_finished(&self) {
        self.days.inc(1);
    }

    pub fn finish(&self) {
        for b in [&self.days, &self.conversations, &self.lookups] {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_pause_is_one_state_however_many_tasks_wait() {
        let pause = Pause::new();
        let now = Instant::now();
        let until = now + Duration::from_secs(42);
        assert_eq!(pause.state(now), "");
        // Eight waiting tasks report the same pause: only the first starts it.
        let started: Vec<bool> = (0..8).map(|_| pause.begin(until)).collect();
        assert_eq!(started.iter().filter(|s| **s).count(), 1, "{started:?}");
        assert_eq!(
            pause.state(now),
            "paused for the API quota, resumes in 42 s"
        );
        assert_eq!(pause.state(until + Duration::from_millis(1)), "");
    }
}
