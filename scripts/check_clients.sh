#!/usr/bin/env bash
# Opens a run's output folder with the readers analysts use (DuckDB, pandas, pyarrow, Polars) and
# checks columns, types and row counts against the manifest. Usage: scripts/check_clients.sh OUTPUT_DIR
# `scripts/check_clients.sh --setup` only makes the venv (also used by the S3 tests: moto, boto3) and
# prints its python.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTPUT_DIR | --setup" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/client-check-venv"
py="${PYTHON:-python3}"
# The venv is reused between runs; the stamp file marks a completed install of this package list.
packages="duckdb pyarrow pandas polars moto[server] boto3"
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$packages" ]; then
  # Debian's python3 ships venv without ensurepip until python3-venv is installed; say so plainly
  # instead of failing half-way through creating the venv.
  if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "$py cannot create a virtual environment (no venv/ensurepip module)." >&2
    echo "Install it (Debian/Ubuntu: apt-get install python3-venv) or set PYTHON to another python3." >&2
    exit 2
  fi
  # Whatever an interrupted install left behind is rebuilt from scratch.
  rm -rf "$venv"
  "$py" -m venv "$venv"
  # shellcheck disable=SC2086 # the list is split on purpose
  "$venv/bin/pip" install --quiet --disable-pip-version-check $packages
  echo "$packages" > "$venv/.installed"
fi
if [ "$1" = "--setup" ]; then
  echo "$venv/bin/python"
  exit 0
fi
exec "$venv/bin/python" "$root/scripts/check_clients.py" "$1"
