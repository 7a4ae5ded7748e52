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
py="${PYTHON:-python3}"
# The venv is reused between runs; the stamp file marks a completed install.
if [ ! -f "$venv/.installed" ]; then
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
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb pyarrow pandas
  touch "$venv/.installed"
fi
exec "$venv/bin/python" "$root/scripts/check_clients.py" "$1"
