#!/usr/bin/env bash
# Opens a run's output folder with the readers analysts use (DuckDB, pandas, pyarrow) and checks
# columns, types and row counts against the manifest. Usage: scripts/check_clients.sh OUTPUT_DIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTPUT_DIR" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/client-check-venv"
# The venv is reused between runs; the stamp file marks a completed install.
if [ ! -f "$venv/.installed" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb pyarrow pandas
  touch "$venv/.installed"
fi
exec "$venv/bin/python" "$root/scripts/check_clients.py" "$1"
