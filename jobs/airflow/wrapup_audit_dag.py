"""wrapup-audit on Airflow: a nightly run, and a backfill as a task group of shards.

Copy this file into the DAGs folder of a deployment whose workers have the `wrapup-audit` binary (or swap
the subprocess call for a KubernetesPodOperator running the image built from the repo's Containerfile).
Credentials come from the worker's environment (GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET, GENESYS_REGION);
each backfill shard names its own variables, because each shard needs its own OAuth client.

Exit codes become task states:
  0       success
  1       success, with a warning: some lookups failed after retries; the next night's lookback heals them
  4, 130, 143  failed and retried (API unavailable, interrupted): the rerun resumes where it stopped
  2, 3, 5, 6, 7  failed without retry: configuration, credentials, output, lock, or a quality gate that
          tripped; a retry cannot fix these
  other   failed and retried (an unexpected crash)
"""

from __future__ import annotations

import logging
import os
import subprocess
from datetime import timedelta

import pendulum
from airflow.decorators import dag, task, task_group
from airflow.exceptions import AirflowException, AirflowFailException

BINARY = os.environ.get("WRAPUP_AUDIT_BIN", "wrapup-audit")
JOB_FILE = "/etc/wrapup-audit/nightly.toml"
OUTPUT_ROOT = "/reports/wrapup"

# The nightly command line (the test suite parses it with the real CLI).
NIGHTLY_ARGS = [
    "run", "--job", JOB_FILE, "--output-dir", OUTPUT_ROOT,
    "--lookback-days", "2", "--log-format", "json",
    "--metrics-file", "/var/lib/node_exporter/textfile/wrapup_audit.prom",
]

# A backfill split by `wrapup-audit plan --shards 3 --json` (its "shards"): contiguous day ranges,
# each with its own output root and its own OAuth client (environment prefix).
BACKFILL_SHARDS = [
    {"index": 0, "from": "2026-10-01", "to": "2026-10-11", "env_prefix": "SHARD0_"},
    {"index": 1, "from": "2026-10-11", "to": "2026-10-21", "env_prefix": "SHARD1_"},
    {"index": 2, "from": "2026-10-21", "to": "2026-11-01", "env_prefix": "SHARD2_"},
]

NO_RETRY = {2: "usage or configuration error", 3: "credentials or permissions",
            5: "output directory not writable", 6: "another run holds the lock",
            7: "a fail_if quality gate tripped (see manifest.json)"}


def backfill_args(shard: dict) -> list[str]:
    return [
        "run", "--job", "/etc/wrapup-audit/backfill.toml",
        "--from", shard["from"], "--to", shard["to"],
        "--output-dir", f"{OUTPUT_ROOT}/shard={shard['index']}",
        "--log-format", "json",
    ]


def run_wrapup_audit(args: list[str], env_prefix: str = "") -> int:
    """Runs the binary and turns its exit code into the task's state."""
    env = dict(os.environ)
    for name in ("GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET", "GENESYS_REGION"):
        if env_prefix and env_prefix + name in env:
            env[name] = env[env_prefix + name]
    code = subprocess.run([BINARY, *args], env=env, check=False).returncode
    if code == 0:
        return code
    if code == 1:
        logging.warning("wrapup-audit: reports written, some lookups failed; the next lookback heals them")
        return code
    if code in NO_RETRY:
        raise AirflowFailException(f"wrapup-audit exited {code}: {NO_RETRY[code]}")
    raise AirflowException(f"wrapup-audit exited {code}; retrying")


@dag(
    dag_id="wrapup_audit",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=20)},
    tags=["genesys", "wrapup-audit"],
)
def wrapup_audit():
    @task
    def nightly() -> int:
        return run_wrapup_audit(NIGHTLY_ARGS)

    nightly()


@dag(
    dag_id="wrapup_audit_backfill",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=20)},
    tags=["genesys", "wrapup-audit"],
)
def wrapup_audit_backfill():
    @task_group(group_id="shards")
    def shards():
        for shard in BACKFILL_SHARDS:
            @task(task_id=f"shard_{shard['index']}")
            def one(s: dict = shard) -> int:
                return run_wrapup_audit(backfill_args(s), s["env_prefix"])

            one()

    shards()


wrapup_audit()
wrapup_audit_backfill()
