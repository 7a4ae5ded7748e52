//! Progress on a terminal: indicatif bars for days, conversations and lookups, with rates and ETA.
//!
//! Bars draw only when stderr is a terminal and `--quiet` is off; under cron or a scheduler the same
//! facts reach the log as one line per day, with no control characters. Log lines printed while bars
//! are shown go through [`suspend`], so they never tear a bar.

use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

static MULTI: OnceLock<MultiProgress> = OnceLock::new();

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
                "{prefix:>13} [{bar:30}] {pos}/{len} days  {msg}  eta {eta}",
            )
            .expect("template")
            .progress_chars("=> "),
        );
        days.set_prefix("days");
        let counter = |name: &str| {
            let b = multi.add(ProgressBar::no_length());
            b.set_style(
                ProgressStyle::with_template("{prefix:>13} {pos} ({per_sec})  {msg}")
                    .expect("template"),
            );
            b.set_prefix(name.to_string());
            b.enable_steady_tick(Duration::from_millis(250));
            b
        };
        let conversations = counter("conversations");
        let lookups = counter("lookups");
        Progress {
            days,
            conversations,
            lookups,
        }
    }

    /// True when bars should draw: stderr is a terminal and the run is not quiet.
    pub fn wanted(quiet: bool) -> bool {
        !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())
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
