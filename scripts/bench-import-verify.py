#!/usr/bin/env python3
"""Access-log import and `monban verify` over N logins (issue 12: "the benchmark records
the import rate and `verify` time over 10 M logins"), each beside its limit measured in
the same run on the same machine (docs/BENCHMARKS.md, "Access-log import and verify").

1. log     - `monban-sim access-log --system lab --format utf8 --rows N` writes the log
             (streamed: the file, not memory, holds the rows) from the generated hospital
             with its 検体検査システム; its `[[imports]]` table comes from --with-mapping.
2. import  - `monban import logins --system lab` (release build) into an empty store:
             check pass, then the writer (verdicts, rollups, evidence chain).
   limit   - the same rows inserted raw with Python's sqlite3: parsed from the same CSV,
             `executemany` into a table of the same columns and primary key, one
             transaction per batch (2 000, as the import), `synchronous=FULL` in WAL mode
             as the hub. The reading/parsing alone is timed too and reported.
3. verify  - `monban verify` over the stopped store (every link and every chained row).
   limit   - reading every row of the chained tables and of `evidence` (SELECT *).

Prints one JSON object; progress on stderr.

    scripts/bench-import-verify.py --rows 10000000 [--bin target/release/monban]
        [--sim target/release/monban-sim] [--dir DIR] [--database postgres://…/empty_db]

A PostgreSQL URL must name an empty database made for the run; its import limit is not
measured (only SQLite's).
"""

import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, default=10_000_000)
p.add_argument("--bin", default="target/release/monban")
p.add_argument("--sim", default=None)
p.add_argument("--database", default=None)
p.add_argument("--dir", default=None)
p.add_argument("--batch", type=int, default=2000)
p.add_argument("--days", type=int, default=60)
p.add_argument("--skip-limit", action="store_true")
a = p.parse_args()
sim = a.sim or os.path.join(os.path.dirname(a.bin), "monban-sim")

d = a.dir or tempfile.mkdtemp(prefix="monban-bench-iv-")
os.makedirs(d, exist_ok=True)
db = a.database or "sqlite://bench.db"
end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
out = {"rows": a.rows, "database": db.split(":")[0], "batch": a.batch, "dir": d,
       "cpus": os.cpu_count(), "load_before": os.getloadavg()}


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def timed(args, **kw):
    t = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    return r, time.perf_counter() - t


# 1. the configuration and the log
hospital, _ = timed([sim, "hospital", "--with-lab", "--seed", "1", "--today",
                     end.date().isoformat()])
if hospital.returncode != 0:
    sys.exit(hospital.stderr)
log = os.path.join(d, "lab.csv")
r, secs = timed([sim, "access-log", "--system", "lab", "--format", "utf8", "--rows",
                 str(a.rows), "--days", str(a.days), "--seed", "1", "--end",
                 end.isoformat().replace("+00:00", "Z"), "--with-mapping", "--output", log])
if r.returncode != 0:
    sys.exit(r.stderr)
mapping = "\n".join(l for l in r.stdout.splitlines() if not l.startswith("#"))
cfg = os.path.join(d, "monban.toml")
with open(cfg, "w") as f:
    f.write(f'[server]\nlisten = "127.0.0.1:1"\ndatabase = "{db}"\n\n')
    f.write(hospital.stdout)
    f.write("\n" + mapping + "\n")
out["log"] = {"seconds": round(secs, 1), "bytes": os.path.getsize(log)}
say(f"log: {a.rows} rows, {out['log']['bytes'] / 1e6:.0f} MB in {secs:.1f} s")

# 2. the import
r, secs = timed([a.bin, "--config", cfg, "import", "logins", "--system", "lab",
                 "--batch", str(a.batch), log])
if r.returncode != 0:
    sys.exit(f"import failed ({r.returncode}): {r.stderr[-2000:]}")
out["import"] = {"seconds": round(secs, 1), "rows_per_second": round(a.rows / secs),
                 "summary": r.stdout.strip()}
say(f"import: {r.stdout.strip()} — {secs:.1f} s, {a.rows / secs:.0f} rows/s")

# 2'. its limit: the same rows, raw, into SQLite
if not a.skip_limit:
    def rows():
        with open(log, newline="", encoding="utf-8") as f:
            it = csv.reader(f)
            next(it)
            for log_id, at, user, ws, status, method in it:
                ms = int(dt.datetime.fromisoformat(at).timestamp() * 1000)
                yield (log_id, "lab", user, ws, ms,
                       json.dumps(["ic_card", "password"] if method == "IC+PW"
                                  else ["password"]),
                       "success" if status == "OK" else "failure")

    t = time.perf_counter()
    n = sum(1 for _ in rows())
    parse = time.perf_counter() - t
    raw_path = os.path.join(d, "raw.db")
    con = sqlite3.connect(raw_path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("CREATE TABLE logins (event_id TEXT PRIMARY KEY, system TEXT NOT NULL, "
                "account TEXT NOT NULL, terminal TEXT NOT NULL, ts INTEGER NOT NULL, "
                "factors TEXT NOT NULL, outcome TEXT NOT NULL)")
    t = time.perf_counter()
    batch = []
    for row in rows():
        batch.append(row)
        if len(batch) >= a.batch:
            con.execute("BEGIN")
            con.executemany("INSERT INTO logins VALUES (?,?,?,?,?,?,?)", batch)
            con.execute("COMMIT")
            batch = []
    if batch:
        con.execute("BEGIN")
        con.executemany("INSERT INTO logins VALUES (?,?,?,?,?,?,?)", batch)
        con.execute("COMMIT")
    total = time.perf_counter() - t
    con.close()
    insert = max(total - parse, 1e-9)
    out["import_limit"] = {
        "rows": n, "parse_seconds": round(parse, 1), "parse_and_insert_seconds": round(total, 1),
        "insert_seconds": round(insert, 1), "insert_rows_per_second": round(n / insert),
        "ratio_import_to_insert": round((n / insert) / (a.rows / out["import"]["seconds"]), 2),
    }
    say(f"limit: raw insert {n / insert:.0f} rows/s (parse {parse:.1f} s, "
        f"parse+insert {total:.1f} s); import is {out['import_limit']['ratio_import_to_insert']}x slower")
    os.remove(raw_path)
    for ext in ("-wal", "-shm"):
        if os.path.exists(raw_path + ext):
            os.remove(raw_path + ext)

# 3. verify, and its limit
r, secs = timed([a.bin, "--config", cfg, "verify"])
out["verify"] = {"seconds": round(secs, 1), "exit": r.returncode,
                 "line": (r.stdout.strip() or r.stderr.strip())[-300:]}
say(f"verify: exit {r.returncode} in {secs:.1f} s: {out['verify']['line']}")
CHAINED = ["door_events", "door_status", "door_outages", "logins", "verdict_changes",
           "maintenance_requests", "inventory_changes", "audit", "evidence"]
t = time.perf_counter()
scanned = 0
if db.startswith("sqlite:"):
    path = db[len("sqlite://"):]
    if not os.path.isabs(path):
        path = os.path.join(d, path)
    con = sqlite3.connect(path)
    for tbl in CHAINED:
        for _ in con.execute(f"SELECT * FROM {tbl}"):
            scanned += 1
    con.close()
else:
    for tbl in CHAINED:
        subprocess.run(["psql", db, "-qc", f"COPY (SELECT * FROM {tbl}) TO STDOUT"],
                       stdout=subprocess.DEVNULL, check=True)
    scanned = -1
scan = time.perf_counter() - t
out["verify_limit"] = {"read_all_seconds": round(scan, 1), "rows_read": scanned,
                       "ratio_verify_to_read": round(secs / scan, 2)}
say(f"limit: reading every chained row: {scan:.1f} s ({scanned} rows); verify is "
    f"{secs / scan:.1f}x")
out["load_after"] = os.getloadavg()
print(json.dumps(out, ensure_ascii=False, indent=1))
