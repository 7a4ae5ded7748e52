#!/usr/bin/env python3
"""Open a wrapup-audit output folder with the readers analysts use and check it.

Usage: check_clients.py OUTPUT_DIR   (normally through scripts/check_clients.sh, which makes a venv)

Every table in every format is its own Hive dataset root (`parquet/conversations/`, `csv/legs/`,
...) holding only `date=YYYY-MM-DD/` folders. Each root is opened by its folder path alone, with no
glob and no file filter, as an analyst would: pandas.read_parquet(root), pyarrow.dataset(root),
DuckDB read_parquet(root) / read_csv(root), polars.read_parquet(root). Checks: exact column lists
and types, row counts agreeing across readers, formats and manifest.json, the `date` partition
column matching each conversation's start day in the job's time zone, label values within the
contract, the name rule of every *_name column, the catalog files, and the summary's
unresolved-name counts.

Prints one line per check and `N passed, M failed` last; exits 1 if any check failed.
"""

import glob
import json
import os
import sys
import traceback

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

# The column contract, in file order: (name, kind, nullable). Mirrors CONVERSATION_COLUMNS /
# LEG_COLUMNS in src/sink/mod.rs and the Arrow schemas in src/sink/parquet.rs.
CONVERSATIONS = [
    ("conversation_id", "str", False),
    ("conversation_start", "ts", False),
    ("conversation_end", "ts", True),
    ("media_type", "str", True),
    ("originating_direction", "str", True),
    ("queue_id", "str", True),
    ("queue_name", "str", True),
    ("agent_legs", "i32", False),
    ("classification", "str", False),
    ("reason", "str", False),
    ("wrapup_code_id", "str", True),
    ("wrapup_code_name", "str", True),
    ("code_source", "str", True),
    ("acw_ms", "i64", False),
    ("handle_ms", "i64", False),
    ("lookup", "str", False),
    ("ended_minutes_before_as_of", "i64", True),
    ("reportable_code", "str", True),
    ("queue_wrapup_prompt", "str", True),
    ("queue_acw_timeout_ms", "i64", True),
    ("config_mismatch", "str", True),
]
LEGS = [
    ("conversation_id", "str", False),
    ("conversation_start", "ts", False),
    ("participant_id", "str", False),
    ("user_id", "str", True),
    ("agent_name", "str", True),
    ("purpose", "str", False),
    ("media_type", "str", True),
    ("queue_id", "str", True),
    ("queue_name", "str", True),
    ("connected", "bool", False),
    ("label", "str", False),
    ("analytics_wrapup_code", "str", True),
    ("lookup_wrapup_code", "str", True),
    ("wrapup_code_name", "str", True),
    ("wrapup_required", "bool", True),
    ("wrapup_prompt", "str", True),
    ("wrapup_skipped", "bool", True),
    ("acw_skipped", "bool", False),
    ("acw_ms", "i64", False),
    ("handle_ms", "i64", False),
    ("talk_ms", "i64", False),
    ("detail", "str", True),
    ("reportable_code", "str", True),
    ("queue_wrapup_prompt", "str", True),
    ("queue_acw_timeout_ms", "i64", True),
    ("config_mismatch", "str", True),
]
COMPLIANCE = [
    ("user_id", "str", True),
    ("agent_name", "str", True),
    ("queue_id", "str", True),
    ("queue_name", "str", True),
    ("media_type", "str", True),
    ("queue_wrapup_prompt", "str", True),
    ("queue_acw_timeout_ms", "i64", True),
    ("legs", "i64", False),
    ("owed", "i64", False),
    ("with_code", "i64", False),
    ("gaps", "i64", False),
    ("timeout", "i64", False),
    ("missing", "i64", False),
    ("unknown", "i64", False),
    ("gap_rate", "f64", True),
    ("timeout_rate", "f64", True),
    ("acw_ms", "i64", False),
    ("timeout_acw_ms", "i64", False),
    ("config_mismatches", "i64", False),
]
TABLES = {"conversations": CONVERSATIONS, "legs": LEGS, "compliance": COMPLIANCE}

# Catalog files of a run, in catalogs/: file -> header.
CATALOGS_DIR = "catalogs"
CATALOGS = {
    "wrapup_codes.csv": ["wrapup_code_id", "wrapup_code_name"],
    "queues.csv": ["queue_id", "queue_name", "acw_wrapup_prompt", "acw_timeout_ms"],
    "users.csv": ["user_id", "user_name"],
}
UNRESOLVED = "(unresolved) "

# Label sets of shared/spec/classification.md (needs_lookup never reaches a report).
CONVERSATION_LABELS = {
    "coded", "system", "timeout", "recovered", "skipped", "not_required", "no_wrapup_phase",
    "not_connected", "missing", "unexplained", "lookup_failed", "no_agent", "in_progress",
    "too_recent",
}
LEG_LABELS = {
    "timeout", "system", "coded", "pending", "skipped", "not_connected", "no_wrapup_phase",
    "recovered", "not_required", "missing", "lookup_failed", "unexplained",
}
LOOKUP_VALUES = {"not_needed", "done", "failed", "over_budget", "disabled"}
CODE_SOURCES = {"analytics", "conversation_api"}

ARROW_TYPES = {
    "str": [pa.string(), pa.large_string()],
    "ts": [pa.timestamp("ms", tz="UTC")],
    "i32": [pa.int32()],
    "i64": [pa.int64()],
    "bool": [pa.bool_()],
    "f64": [pa.float64()],
}
DUCK_PARQUET_TYPES = {
    "str": {"VARCHAR"},
    "ts": {"TIMESTAMP WITH TIME ZONE"},
    "i32": {"INTEGER"},
    "i64": {"BIGINT"},
    "bool": {"BOOLEAN"},
    "f64": {"DOUBLE"},
}
# CSV has no types; the sniffer must still land on the right family.
DUCK_CSV_TYPES = {
    "str": {"VARCHAR"},
    "ts": {"TIMESTAMP WITH TIME ZONE", "TIMESTAMP"},
    "i32": {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"},
    "i64": {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"},
    "bool": {"BOOLEAN"},
    "f64": {"DOUBLE", "FLOAT"},
}


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, name, fn):
        """Runs one check; `fn` returns None when fine, or a message describing the mismatch."""
        try:
            problem = fn()
        except Exception as e:  # a reader refusing the files is a failure, not a crash
            problem = f"{type(e).__name__}: {e}"
            if os.environ.get("CHECK_CLIENTS_TRACE"):
                traceback.print_exc()
        if problem:
            self.failed.append(name)
            print(f"FAIL {name}: {problem}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def names(spec):
    return [c[0] for c in spec]


def diff_columns(got, want):
    if list(got) == list(want):
        return None
    missing = [c for c in want if c not in got]
    extra = [c for c in got if c not in want]
    return f"columns differ: missing {missing}, unexpected {extra}, got order {list(got)}"


# Files a run writes next to the dataset roots; anything else at the top level is a stray.
RUN_FILES = {"summary.json", "summary.md", "summary.html", "manifest.json", "partitions.json"}


def hidden(name):
    """Names every Hive reader skips: staging and lock files may use them."""
    return name.startswith(".") or name.startswith("_")


def sql_str(path):
    return "'" + path.replace("'", "''") + "'"


def main(out):
    out = os.path.abspath(out)
    manifest_path = os.path.join(out, "manifest.json")
    if not os.path.isfile(manifest_path):
        print(f"FAIL no manifest.json in {out}: is this a wrapup-audit output folder?")
        print("0 passed, 1 failed")
        return 1
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    formats = set(manifest.get("formats", "csv,parquet").split(","))
    timezone = manifest["window"]["timezone"]
    parts = {p["date"]: p for p in manifest["partitions"]}
    def table_rows(p, t):
        # conversations and legs have their own counts; other tables count in their file entries.
        if isinstance(p.get(t), int):
            return p[t]
        return next((f["rows"] for f in p["files"] if f"/{t}/" in f["path"]), 0)

    expected_rows = {
        t: sum(table_rows(p, t) for p in manifest["partitions"]) for t in TABLES
    }
    per_day = {t: {d: table_rows(p, t) for d, p in parts.items()} for t in TABLES}
    c = Checker()
    con = duckdb.connect()

    roots = [(fmt, table) for fmt in ("csv", "parquet") if fmt in formats for table in TABLES]

    def check_layout():
        bad = []
        for name in sorted(os.listdir(out)):
            path = os.path.join(out, name)
            if hidden(name) or name in RUN_FILES or name == CATALOGS_DIR:
                continue
            if name in ("csv", "parquet") and os.path.isdir(path):
                if name not in formats:
                    bad.append(f"{name}/ exists but the run wrote only {sorted(formats)}")
                # Table roots this checker does not know are fine; each must still be clean.
                for table in sorted(os.listdir(path)):
                    root = os.path.join(path, table)
                    if hidden(table):
                        continue
                    if not os.path.isdir(root):
                        bad.append(f"{name}/{table} is not a dataset root folder")
                        continue
                    for entry in sorted(os.listdir(root)):
                        if not hidden(entry) and not (
                            entry.startswith("date=") and os.path.isdir(os.path.join(root, entry))
                        ):
                            bad.append(f"{name}/{table}/{entry}: a dataset root holds only date= folders")
                continue
            bad.append(f"{name}: not part of the layout (a leftover of an older version?)")
        for fmt, table in roots:
            root = os.path.join(out, fmt, table)
            on_disk = sorted(d[len("date="):] for d in os.listdir(root) if d.startswith("date=")) \
                if os.path.isdir(root) else []
            if on_disk != sorted(parts):
                bad.append(f"{fmt}/{table} has days {on_disk} but manifest.json lists {sorted(parts)}")
            for d in on_disk:
                files = [f for f in os.listdir(os.path.join(root, f"date={d}")) if not hidden(f)]
                if files != [f"{table}.{fmt}"]:
                    bad.append(f"{fmt}/{table}/date={d} holds {files}, want [{table}.{fmt}]")
        return "; ".join(bad) or None

    c.check("layout: one root per table and format, holding only date= folders", check_layout)

    def check_manifest_file_rows():
        bad = []
        for p in manifest["partitions"]:
            for f in p["files"]:
                path = os.path.join(out, f["path"])
                if f["path"].endswith(".parquet"):
                    n = pq.ParquetFile(path).metadata.num_rows
                else:
                    n = len(pd.read_csv(path, dtype=str, keep_default_na=False))
                if n != f["rows"]:
                    bad.append(f"{f['path']}: {n} rows, manifest says {f['rows']}")
        return "; ".join(bad) or None

    c.check("manifest.json row counts match every file", check_manifest_file_rows)

    frames = {}  # (table, format) -> pandas frame with `date`, for the cross checks

    for table, spec in TABLES.items():
        cols = names(spec)
        kinds = {n: k for n, k, _ in spec}
        want_rows = expected_rows[table]

        if "parquet" in formats:
            root = os.path.join(out, "parquet", table)
            files = sorted(glob.glob(os.path.join(root, "date=*", f"{table}.parquet")))
            root_sql = sql_str(root)

            def arrow_file_schemas(files=files, spec=spec):
                bad = []
                for path in files:
                    schema = pq.read_schema(path)
                    rel = os.path.relpath(path, out)
                    problem = diff_columns(schema.names, names(spec))
                    if problem:
                        bad.append(f"{rel}: {problem}")
                        continue
                    for name, kind, nullable in spec:
                        field = schema.field(name)
                        if field.type not in ARROW_TYPES[kind]:
                            bad.append(f"{rel}: {name} is {field.type}, want {ARROW_TYPES[kind][0]}")
                        if field.nullable != nullable:
                            bad.append(f"{rel}: {name} nullable={field.nullable}, want {nullable}")
                if not files:
                    bad.append("no files")
                return "; ".join(bad) or None

            c.check(f"pyarrow: {table}.parquet schema (names, types, UTC ms timestamps, nullability)",
                    arrow_file_schemas)

            def arrow_dataset(root=root, cols=cols, table=table, want_rows=want_rows):
                d = ds.dataset(root, format="parquet", partitioning="hive")
                problem = diff_columns(d.schema.names, cols + ["date"])
                if problem:
                    return problem
                if d.schema.field("date").type not in (pa.string(), pa.large_string(), pa.date32()):
                    return f"date partition column is {d.schema.field('date').type}"
                t = d.to_table()
                if t.num_rows != want_rows:
                    return f"{t.num_rows} rows, manifest.json says {want_rows}"
                by_day = {str(k): v for k, v in pd.Series(t.column("date").to_pylist()).value_counts().items()}
                want = {k: v for k, v in per_day[table].items() if v}
                if by_day != want:
                    return f"rows per date {by_day}, manifest.json says {want}"
                return None

            c.check(f"pyarrow.dataset(parquet/{table}): columns, date, row counts = manifest", arrow_dataset)

            def duck_parquet(root_sql=root_sql, spec=spec, cols=cols, table=table, want_rows=want_rows):
                rel = f"read_parquet({root_sql}, hive_partitioning=true)"
                desc = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
                got = [r[0] for r in desc]
                problem = diff_columns(got, cols + ["date"])
                if problem:
                    return problem
                types = {r[0]: r[1] for r in desc}
                bad = [
                    f"{n} is {types[n]}, want {sorted(DUCK_PARQUET_TYPES[k])[0]}"
                    for n, k, _ in spec
                    if types[n] not in DUCK_PARQUET_TYPES[k]
                ]
                if types["date"] not in ("DATE", "VARCHAR"):
                    bad.append(f"date is {types['date']}")
                if bad:
                    return "; ".join(bad)
                n = con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
                if n != want_rows:
                    return f"{n} rows, manifest.json says {want_rows}"
                by_day = dict(con.execute(
                    f"SELECT CAST(date AS VARCHAR), count(*) FROM {rel} GROUP BY 1").fetchall())
                want = {k: v for k, v in per_day[table].items() if v}
                if by_day != want:
                    return f"rows per date {by_day}, manifest.json says {want}"
                return None

            c.check(f"duckdb read_parquet(parquet/{table}): columns, types, row counts = manifest",
                    duck_parquet)

            def pandas_parquet(root=root, spec=spec, cols=cols, table=table, want_rows=want_rows):
                df = pd.read_parquet(root, dtype_backend="numpy_nullable")
                problem = diff_columns(df.columns, cols + ["date"])
                if problem:
                    return problem
                # The partition column arrives as a category; the checks below compare strings.
                df["date"] = df["date"].astype(str)
                want_dtype = {"str": "string", "i32": "Int32", "i64": "Int64", "bool": "boolean", "f64": "Float64"}
                bad = []
                for n, k, _ in spec:
                    dt = df[n].dtype
                    if k == "ts":
                        if not (isinstance(dt, pd.DatetimeTZDtype) and str(dt.tz) == "UTC"):
                            bad.append(f"{n} is {dt}, want a UTC datetime")
                    elif str(dt) != want_dtype[k]:
                        bad.append(f"{n} is {dt}, want {want_dtype[k]}")
                if bad:
                    return "; ".join(bad)
                if len(df) != want_rows:
                    return f"{len(df)} rows, manifest.json says {want_rows}"
                frames[(table, "parquet")] = df
                return None

            c.check(f"pandas read_parquet(parquet/{table}): columns, dtypes, row count = manifest",
                    pandas_parquet)

            def polars_parquet(root=root, spec=spec, cols=cols, table=table, want_rows=want_rows):
                df = pl.read_parquet(root)
                problem = diff_columns(df.columns, cols + ["date"])
                if problem:
                    return problem
                want = {"str": pl.String, "i32": pl.Int32, "i64": pl.Int64, "bool": pl.Boolean, "f64": pl.Float64}
                bad = []
                for n, k, _ in spec:
                    dt = df.schema[n]
                    if k == "ts":
                        if dt != pl.Datetime("ms", "UTC"):
                            bad.append(f"{n} is {dt}, want Datetime(ms, UTC)")
                    elif dt != want[k]:
                        bad.append(f"{n} is {dt}, want {want[k]}")
                if bad:
                    return "; ".join(bad)
                if df.height != want_rows:
                    return f"{df.height} rows, manifest.json says {want_rows}"
                by_day = {str(d): n for d, n in df.group_by("date").len().iter_rows()}
                want_days = {k: v for k, v in per_day[table].items() if v}
                if by_day != want_days:
                    return f"rows per date {by_day}, manifest.json says {want_days}"
                return None

            c.check(f"polars read_parquet(parquet/{table}): columns, types, row count = manifest",
                    polars_parquet)

        if "csv" in formats:
            root = os.path.join(out, "csv", table)
            files = sorted(glob.glob(os.path.join(root, "date=*", f"{table}.csv")))
            root_sql = sql_str(root)

            def duck_csv(root_sql=root_sql, spec=spec, cols=cols, table=table, want_rows=want_rows):
                rel = f"read_csv({root_sql}, hive_partitioning=true)"
                desc = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
                got = [r[0] for r in desc]
                problem = diff_columns(got, cols + ["date"])
                if problem:
                    return problem
                types = {r[0]: r[1] for r in desc}
                bad = []
                for n, k, _ in spec:
                    if types[n] in DUCK_CSV_TYPES[k]:
                        continue
                    # A column that is empty in every row carries no type to detect.
                    empty = con.execute(f'SELECT count("{n}") FROM {rel}').fetchone()[0] == 0
                    if not (empty and types[n] == "VARCHAR"):
                        bad.append(f"{n} sniffed as {types[n]}, want {sorted(DUCK_CSV_TYPES[k])[0]}")
                if bad:
                    return "; ".join(bad)
                n = con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
                if n != want_rows:
                    return f"{n} rows, manifest.json says {want_rows}"
                by_day = dict(con.execute(
                    f"SELECT CAST(date AS VARCHAR), count(*) FROM {rel} GROUP BY 1").fetchall())
                want = {k: v for k, v in per_day[table].items() if v}
                if by_day != want:
                    return f"rows per date {by_day}, manifest.json says {want}"
                return None

            c.check(f"duckdb read_csv(csv/{table}): columns, types, row counts = manifest", duck_csv)

            def arrow_csv(root=root, cols=cols, table=table, want_rows=want_rows):
                t = ds.dataset(root, format="csv", partitioning="hive").to_table()
                problem = diff_columns(t.schema.names, cols + ["date"])
                if problem:
                    return problem
                if t.num_rows != want_rows:
                    return f"{t.num_rows} rows, manifest.json says {want_rows}"
                return None

            c.check(f"pyarrow.dataset(csv/{table}): columns, row count = manifest", arrow_csv)

            def pandas_csv(files=files, spec=spec, cols=cols, table=table, want_rows=want_rows):
                ts_cols = [n for n, k, _ in spec if k == "ts"]
                want_dtype = {"str": "string", "i32": "Int64", "i64": "Int64", "bool": "boolean", "f64": "Float64"}
                parts_, bad = [], []
                for path in files:
                    rel = os.path.relpath(path, out)
                    with open(path, encoding="utf-8") as f:
                        header = f.readline().rstrip("\n").split(",")
                    problem = diff_columns(header, cols)
                    if problem:
                        return f"{rel} header: {problem}"
                    df = pd.read_csv(path, dtype_backend="numpy_nullable", parse_dates=ts_cols)
                    # pandas infers per file, so a column empty in one day's file has no type there.
                    for n, k, _ in spec:
                        dt = df[n].dtype
                        if df[n].isna().all():
                            continue
                        if k == "ts":
                            if not (isinstance(dt, pd.DatetimeTZDtype) and str(dt.tz) == "UTC"):
                                bad.append(f"{rel}: {n} parsed as {dt}, want a UTC datetime")
                        elif str(dt) != want_dtype[k]:
                            bad.append(f"{rel}: {n} parsed as {dt}, want {want_dtype[k]}")
                    df["date"] = os.path.basename(os.path.dirname(path))[len("date="):]
                    parts_.append(df)
                if bad:
                    return "; ".join(bad)
                if not parts_:
                    return "no files"
                df = pd.concat(parts_, ignore_index=True)
                problem = diff_columns(df.columns, cols + ["date"])
                if problem:
                    return problem
                if len(df) != want_rows:
                    return f"{len(df)} rows, manifest.json says {want_rows}"
                frames[(table, "csv")] = df
                return None

            c.check(f"pandas read_csv: {table} header, dtypes, row count = manifest", pandas_csv)

    key_cols = {
        "conversations": ["conversation_id", "classification", "lookup", "agent_legs", "date"],
        "legs": ["conversation_id", "participant_id", "label", "acw_ms", "date"],
        "compliance": ["user_id", "queue_id", "media_type", "owed", "gaps", "date"],
    }
    both = {"csv", "parquet"} <= formats
    for table in TABLES if both else []:

        def csv_equals_parquet(table=table):
            a = frames.get((table, "csv"))
            b = frames.get((table, "parquet"))
            if a is None or b is None:
                return "an earlier check failed to read the files"
            k = key_cols[table]
            left = a[k].astype(str).sort_values(k).reset_index(drop=True)
            right = b[k].astype(str).sort_values(k).reset_index(drop=True)
            if not left.equals(right):
                return f"CSV and Parquet rows differ in {k}"
            if "conversation_start" not in a.columns:
                return None
            same_start = (a.sort_values(k)["conversation_start"].reset_index(drop=True)
                          == b.sort_values(k)["conversation_start"].reset_index(drop=True)).all()
            return None if same_start else "conversation_start differs between CSV and Parquet"

        c.check(f"{table}: CSV rows equal Parquet rows", csv_equals_parquet)

    def any_frame(table):
        return frames.get((table, "parquet"), frames.get((table, "csv")))

    def date_is_start_day():
        bad = []
        for table in TABLES:
            df = any_frame(table)
            if df is None:
                return "an earlier check failed to read the files"
            if "conversation_start" not in df.columns:
                continue
            local = df["conversation_start"].dt.tz_convert(timezone).dt.strftime("%Y-%m-%d")
            wrong = df[local != df["date"].astype(str)]
            if len(wrong):
                row = wrong.iloc[0]
                bad.append(f"{table}: {len(wrong)} rows, e.g. {row['conversation_id']} started "
                           f"{row['conversation_start']} but sits in date={row['date']}")
        return "; ".join(bad) or None

    c.check(f"date partition = conversation_start day in {timezone}", date_is_start_day)

    def compliance_adds_up():
        comp = any_frame("compliance")
        legs = any_frame("legs")
        if comp is None or legs is None:
            return "an earlier check failed to read the files"
        per_day = comp.groupby(comp["date"].astype(str))["legs"].sum().astype(int).to_dict()
        want = legs.groupby(legs["date"].astype(str)).size().astype(int).to_dict()
        if per_day != want:
            return f"compliance legs per day {per_day}, legs rows per day {want}"
        bad = comp[comp["gaps"] != comp["timeout"] + comp["missing"] + comp["unknown"]]
        if len(bad):
            return f"{len(bad)} rows whose gaps are not timeout + missing + unknown"
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            total = json.load(f)["compliance"]["total"]
        in_run = comp[comp["date"].astype(str).isin(set(parts))]
        for k in ("owed", "with_code", "gaps", "timeout", "missing", "acw_ms", "timeout_acw_ms"):
            if int(in_run[k].sum()) != total[k]:
                return f"compliance {k} sums to {int(in_run[k].sum())}, summary.json says {total[k]}"
        return None

    c.check("compliance: legs per day = legs rows, gaps add up, totals = summary.json", compliance_adds_up)

    def labels_in_contract():
        conv = any_frame("conversations")
        legs = any_frame("legs")
        if conv is None or legs is None:
            return "an earlier check failed to read the files"
        bad = []
        for name, values, allowed in [
            ("conversations.classification", conv["classification"], CONVERSATION_LABELS),
            ("conversations.lookup", conv["lookup"], LOOKUP_VALUES),
            ("conversations.code_source", conv["code_source"].dropna(), CODE_SOURCES),
            ("legs.label", legs["label"], LEG_LABELS),
        ]:
            unknown = sorted(set(values.astype(str)) - allowed)
            if unknown:
                bad.append(f"{name} has {unknown}")
        return "; ".join(bad) or None

    c.check("label values within the classification contract", labels_in_contract)

    def legs_match_agent_legs():
        conv = any_frame("conversations")
        legs = any_frame("legs")
        if conv is None or legs is None:
            return "an earlier check failed to read the files"
        want = conv.set_index("conversation_id")["agent_legs"].astype(int)
        got = legs.groupby("conversation_id").size().reindex(want.index, fill_value=0)
        wrong = want[want != got]
        if len(wrong):
            return f"{len(wrong)} conversations whose agent_legs differs from their legs rows, e.g. {wrong.index[0]}"
        orphans = set(legs["conversation_id"]) - set(conv["conversation_id"])
        return f"{len(orphans)} legs without a conversation row" if orphans else None

    c.check("agent_legs equals the legs rows of each conversation", legs_match_agent_legs)

    def name_pairs():
        """(catalog, id series, name series) of every *_name column, as strings with None for null."""
        conv = any_frame("conversations")
        legs = any_frame("legs")
        if conv is None or legs is None:
            return None

        def col(df, n):
            return [None if pd.isna(v) else str(v) for v in df[n]]

        leg_code = [a if a is not None else b
                    for a, b in zip(col(legs, "lookup_wrapup_code"), col(legs, "analytics_wrapup_code"))]
        return [
            ("queues", "conversations.queue_name", col(conv, "queue_id"), col(conv, "queue_name")),
            ("codes", "conversations.wrapup_code_name", col(conv, "wrapup_code_id"),
             col(conv, "wrapup_code_name")),
            ("users", "legs.agent_name", col(legs, "user_id"), col(legs, "agent_name")),
            ("queues", "legs.queue_name", col(legs, "queue_id"), col(legs, "queue_name")),
            ("codes", "legs.wrapup_code_name", leg_code, col(legs, "wrapup_code_name")),
        ]

    def name_rule():
        pairs = name_pairs()
        if pairs is None:
            return "an earlier check failed to read the files"
        bad = []
        for _, column, ids, names_ in pairs:
            for i, n in zip(ids, names_):
                if (i is None) != (n is None) or n == "":
                    bad.append(f"{column}: id {i!r} has name {n!r}")
                    break
                if n is not None and n.startswith(UNRESOLVED) and n != UNRESOLVED + i:
                    bad.append(f"{column}: {n!r} names another id than {i!r}")
                    break
        return "; ".join(bad) or None

    c.check("*_name is null only without an id, never empty, '(unresolved) <id>' otherwise", name_rule)

    def catalog_files():
        bad = []
        for name, header in CATALOGS.items():
            rel = f"{CATALOGS_DIR}/{name}"
            path = os.path.join(out, rel)
            if not os.path.isfile(path):
                bad.append(f"{rel} missing")
                continue
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            if list(df.columns) != header:
                bad.append(f"{name} header {list(df.columns)}, want {header}")
            elif list(df[header[0]]) != sorted(df[header[0]]):
                bad.append(f"{name} is not sorted by {header[0]}")
            listed = [f for f in manifest["files"] if f["path"] == rel]
            if not listed or listed[0]["rows"] != len(df):
                bad.append(f"{rel} not in manifest.json files with {len(df)} rows")
        return "; ".join(bad) or None

    c.check("catalogs/: headers, sorted by id, listed in manifest.json", catalog_files)

    def unresolved_counts():
        pairs = name_pairs()
        if pairs is None:
            return "an earlier check failed to read the files"
        summary_path = os.path.join(out, "summary.json")
        with open(summary_path, encoding="utf-8") as f:
            want = json.load(f).get("unresolved")
        got = {"codes": 0, "queues": 0, "users": 0}
        for catalog, _, _, names_ in pairs:
            got[catalog] += sum(1 for n in names_ if n is not None and n.startswith(UNRESOLVED))
        return None if got == want else f"files have {got}, summary.json says {want}"

    c.check("summary.json unresolved counts = '(unresolved) ' cells in the files", unresolved_counts)

    print(f"{c.passed} passed, {len(c.failed)} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: check_clients.py OUTPUT_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
