#!/usr/bin/env python3
"""Benchmark of `monban import logins` (docs/BENCHMARKS.md, "Access-log import").

Writes a monban.toml (20 controlled rooms, 100 terminals, 300 people with ehr accounts
and an `[[imports]]` table for a Japanese-style log without an id column, so every id is
derived from a hash of its row) and a CSV access log of ROWS logins over the last 60 days
in time order, then times: the import into an empty store, and the same file again
(everything already stored). Prints one JSON object.

    scripts/bench-import.py [--rows 1000000] [--bin target/release/monban]
                            [--database sqlite://bench.db | postgres://…] [--dir DIR]

A PostgreSQL URL must name an empty database made for the run (the import migrates it
and leaves its tables and logins there): `createdb monban_bench` first, drop it after.
"""

import argparse
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, default=1_000_000)
p.add_argument("--bin", default="target/release/monban")
p.add_argument("--database", default=None)
p.add_argument("--dir", default=None)
p.add_argument("--batch", type=int, default=2000)
a = p.parse_args()

d = a.dir or tempfile.mkdtemp(prefix="monban-bench-import-")
os.makedirs(d, exist_ok=True)
db = a.database or "sqlite://bench.db"
cfg = os.path.join(d, "monban.toml")
lines = [
    "[server]",
    'listen = "127.0.0.1:1"',  # nothing answers there: the import may run
    f'database = "{db}"',
    "[site]",
    'id = "bench"',
    'name = "ベンチ病院"',
]
for r in range(20):
    lines += ["[[rooms]]", f'id = "r{r}"', "controlled = true",
              "[[doors]]", f'id = "r{r}-door"', f'room = "r{r}"']
    for t in range(5):
        lines += ["[[terminals]]", f'id = "r{r}-pc{t}"', f'room = "r{r}"']
lines += ["[[systems]]", 'id = "ehr"', 'category = "ehr"']
for i in range(300):
    lines += ["[[people]]", f'id = "p{i:04}"', f'credentials = ["card:{i:08X}"]',
              f'accounts = {{ ehr = "u{i:04}" }}']
lines += [
    "[[imports]]",
    'system = "ehr"',
    'time = { column = "日時", format = "%Y/%m/%d %H:%M:%S" }',
    'account = { column = "利用者ID" }',
    'terminal = { column = "端末" }',
    'outcome = { column = "結果", map = { "成功" = "success", "失敗" = "failure" } }',
    'factors = { column = "認証方式", map = { "パスワード" = "password", "ICカード" = "ic_card" } }',
]
open(cfg, "w").write("\n".join(lines) + "\n")

log = os.path.join(d, "ehr.csv")
rng = random.Random(1)
start = dt.datetime.now() - dt.timedelta(days=60)
step = 60 * 86400 / a.rows
with open(log, "w", encoding="utf-8") as f:
    f.write("日時,利用者ID,端末,結果,認証方式\n")
    for i in range(a.rows):
        t = start + dt.timedelta(seconds=i * step)
        acc = f"u{rng.randrange(330):04}"  # 30 of them unmapped
        term = f"r{rng.randrange(20)}-pc{rng.randrange(5)}"
        ok = "失敗" if rng.random() < 0.03 else "成功"
        fac = "ICカード+パスワード" if rng.random() < 0.2 else "パスワード"
        f.write(f"{t:%Y/%m/%d %H:%M:%S},{acc},{term},{ok},{fac}\n")
size = os.path.getsize(log)


def run():
    t0 = time.monotonic()
    out = subprocess.run([a.bin, "--config", cfg, "import", "logins", "--system", "ehr",
                          "--batch", str(a.batch), log], capture_output=True, text=True)
    secs = time.monotonic() - t0
    if out.returncode != 0:
        sys.exit(f"import failed ({out.returncode}): {out.stderr[-2000:]}")
    m = re.match(r"imported (\d+), already stored (\d+)", out.stdout)
    return {"seconds": round(secs, 2), "rows_per_second": round(a.rows / secs),
            "imported": int(m.group(1)), "already": int(m.group(2)),
            "summary": out.stdout.strip()}


first = run()
again = run()
print(json.dumps({"rows": a.rows, "file_bytes": size, "database": db.split(":")[0],
                  "batch": a.batch, "first": first, "again": again,
                  "dir": d}, ensure_ascii=False, indent=1))
