//! Exit codes: part of the command-line API, documented in the README and in `--help`.

use std::process::ExitCode;

/// How a command ended. The numbers never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the reports were written and every lookup settled (404/403 answers are findings, not failures).
    Success,
    /// 1: the reports were written, but some lookups failed for transient reasons (retries ran out);
    /// those rows say `lookup_failed` and a rerun may settle them.
    PartialLookups,
    /// 1: the reports were written, but a day may lack conversations (the details query kept serving
    /// fewer rows than it counted); the day is marked not final so a later run redoes it.
    Incomplete,
    /// 2: bad flags, job file, time zone, window or environment; nothing was requested or written.
    Usage,
    /// 3: the credentials were refused, or the OAuth client lacks a permission the job needs.
    Auth,
    /// 4: the API could not be reached or kept failing; no partial report was published.
    ApiUnavailable,
    /// 5: the output directory could not be written.
    Output,
    /// 6: another run holds the output directory's lock.
    Locked,
    /// 7: the reports were written, but a `fail_if` quality gate of the job tripped (the manifest says which).
    QualityGate,
    /// 70: a bug (a panic) stopped the run; finished days are kept and the manifest says so.
    Internal,
    /// 124: `max_runtime` ran out; the run stopped like on SIGTERM, finished days kept.
    TimedOut,
    /// 130: interrupted by SIGINT (Ctrl-C).
    Interrupted,
    /// 143: terminated by SIGTERM.
    Terminated,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::PartialLookups | ExitStatus::Incomplete => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Auth => 3,
            ExitStatus::ApiUnavailable => 4,
            ExitStatus::Output => 5,
            ExitStatus::Locked => 6,
            ExitStatus::QualityGate => 7,
            ExitStatus::Internal => 70,
            ExitStatus::TimedOut => 124,
            ExitStatus::Interrupted => 130,
            ExitStatus::Terminated => 143,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::PartialLookups => "partial_lookups",
            ExitStatus::Incomplete => "incomplete",
            ExitStatus::Usage => "usage_error",
            ExitStatus::Auth => "auth_error",
            ExitStatus::ApiUnavailable => "api_unavailable",
            ExitStatus::Output => "output_error",
            ExitStatus::Locked => "locked",
            ExitStatus::QualityGate => "quality_gate",
            ExitStatus::Internal => "internal_error",
            ExitStatus::TimedOut => "timed_out",
            ExitStatus::Interrupted => "interrupted",
            ExitStatus::Terminated => "terminated",
        }
    }
}

impl ExitStatus {
    /// Every status the program can exit with (the README and docs/operations.md list each).
    pub const ALL: [ExitStatus; 12] = [
        ExitStatus::Success,
        ExitStatus::PartialLookups,
        ExitStatus::Usage,
        ExitStatus::Auth,
        ExitStatus::ApiUnavailable,
        ExitStatus::Output,
        ExitStatus::Locked,
        ExitStatus::QualityGate,
        ExitStatus::Internal,
        ExitStatus::TimedOut,
        ExitStatus::Interrupted,
        ExitStatus::Terminated,
    ];
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

/// The exit-code table as printed by `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success: reports written, every lookup settled
  1    reports written; some lookups failed or a day came back short (rerun)
  2    usage or configuration error; nothing requested or written
  3    credentials refused, wrong region, or a missing role permission
  4    API unavailable after retries; no partial report published
  5    output directory cannot be written
  6    another run holds the output directory's lock
  7    reports written; a fail_if quality gate tripped (see manifest)
  70   internal error (a bug; please report it): finished days kept
  124  max_runtime reached: stopped like SIGTERM, finished days kept
  130  interrupted (SIGINT): finished days kept, rerun to resume
  143  terminated (SIGTERM): finished days kept, rerun to resume";

/// A failure that ends a command, carrying its exit status. Its message is one line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub status: ExitStatus,
    pub message: String,
}

impl Failure {
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}
