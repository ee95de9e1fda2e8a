#!/usr/bin/env python3
"""The hub's benchmark, every figure beside its limit measured in the same run.

Run through scripts/bench.sh (which builds the release binaries first). Phases:

1. broker  - a private Mosquitto: a QoS 1 `mosquitto_pub -l` -> persistent QoS 1
             `mosquitto_sub` moves N door-event payloads (the raw limit), then the hub,
             subscribed to the same broker, stores the same N payloads (MQTT -> stored
             and applied). Both rates and their ratio.
2. disk    - the disk's commit rate: SQLite commits of one row each (synchronous=FULL,
             WAL, as the hub's store), the limit a one-commit-per-input design meets.
3. logins  - logins over HTTP at fixed concurrencies (monban-sim load): verdicts per
             second and p50/p90/p99.
4. big     - `monban generate logins` stores BIG logins through the writer (its time and
             rate), then the reads over them: compliance (30 days, 365 days, a period not
             on day boundaries), the overview, the system page, and an export of about a
             million logins streamed (its rate and the hub's memory meanwhile).
5. verify  - `monban verify` over the big store (CONTRACT §13: every link of the evidence
             chain and every chained row), beside its limit: the time to SELECT every row
             of the chained tables and of `evidence` (Python's sqlite3, or psql COPY to
             /dev/null on PostgreSQL).

The hub's peak RSS (VmHWM) is read after each phase. With MONBAN_BENCH_POSTGRES_URL the
hub phases run again with the store on PostgreSQL (a database made for the run and
dropped after). Nothing here asserts: it prints figures (and a JSON summary) for
docs/BENCHMARKS.md.

Settings (environment): MONBAN_BENCH_EVENTS (50000), MONBAN_BENCH_LOGINS (20000),
MONBAN_BENCH_CONCURRENCY ("4,32"), MONBAN_BENCH_BIG (10000000), MONBAN_BENCH_BIG_PG
(as BIG), MONBAN_BENCH_EXPORT (1000000), MONBAN_BENCH_SKIP (comma list of phases:
broker, disk, logins, big, verify, and sqlite to run only the PostgreSQL store).
"""
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release")
MONBAN = os.path.join(BIN, "monban")
SIM = os.path.join(BIN, "monban-sim")
SITE = "tokyo-general"
DOOR = "ward3-main"

EVENTS = int(os.environ.get("MONBAN_BENCH_EVENTS", "50000"))
LOGINS = int(os.environ.get("MONBAN_BENCH_LOGINS", "20000"))
CONCURRENCY = [int(c) for c in os.environ.get("MONBAN_BENCH_CONCURRENCY", "4,32").split(",")]
BIG = int(os.environ.get("MONBAN_BENCH_BIG", "10000000"))
BIG_PG = int(os.environ.get("MONBAN_BENCH_BIG_PG", str(BIG)))
EXPORT = int(os.environ.get("MONBAN_BENCH_EXPORT", "1000000"))
SKIP = set(filter(None, os.environ.get("MONBAN_BENCH_SKIP", "").split(",")))
PG = os.environ.get("MONBAN_BENCH_POSTGRES_URL", "")

results = {}


def say(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, what, deadline=30):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not open port {port}")


def http(url, token=None, timeout=600):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def timed(url, token, n=5):
    """Median and best seconds of `n` GETs (after one warm-up)."""
    http(url, token)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        http(url, token)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def rss_kb(pid, field="VmHWM"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def metric(base, name, labels):
    text = http(f"{base}/metrics").decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Mosquitto:
    def __init__(self, work):
        self.port = free_port()
        conf = os.path.join(work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(
                f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                # Neither side may lose a queued message while the other lags.
                "max_queued_messages 0\nmax_queued_bytes 0\nmessage_size_limit 1048576\n"
                # A window of 1000 unacknowledged messages per client (the default is 20):
                # the hub acknowledges after the commit that holds a message, so the window
                # is how many messages one commit can hold.
                "max_inflight_messages 1000\n"
            )
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port, "mosquitto")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def payloads(path, n, run):
    base = datetime.now(timezone.utc) - timedelta(hours=1)
    with open(path, "w") as f:
        for i in range(n):
            ts = (base + timedelta(milliseconds=i)).isoformat(timespec="milliseconds")
            f.write(
                json.dumps(
                    {"event_id": f"{run}-{i}", "ts": ts, "kind": "access_granted",
                     "direction": "in", "credential": {"type": "card", "id": "04A1B2C3"}},
                    separators=(",", ":"),
                )
                + "\n"
            )


def publish(port, topic, path):
    with open(path) as f:
        subprocess.run(
            ["mosquitto_pub", "-p", str(port), "-q", "1", "-l", "-t", topic, "-i", f"bench-pub-{os.getpid()}"],
            stdin=f, check=True,
        )


def raw_rate(broker, path, n):
    """Publisher -> persistent QoS 1 subscriber on the same broker: messages per second."""
    cid = f"bench-sub-{os.getpid()}"
    # A persistent session first, so nothing published is lost before the subscriber reads.
    subprocess.run(["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-c", "-i", cid,
                    "-t", "bench/raw", "-W", "1"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-c", "-i", cid,
                            "-t", "bench/raw", "-C", str(n)], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    t = time.perf_counter()
    publish(broker.port, "bench/raw", path)
    sub.wait()
    return n / (time.perf_counter() - t)


class Hub:
    def __init__(self, work, database, mqtt_port=None, name="hub"):
        self.work = work
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = os.path.join(work, f"{name}.toml")
        hospital = subprocess.run([SIM, "hospital", "--seed", "1"], capture_output=True,
                                  text=True, check=True).stdout
        with open(self.config, "w") as f:
            f.write(f'[server]\nlisten = "127.0.0.1:{self.port}"\ndatabase = "{database}"\n'
                    'grace = "60s"\n\n[limits]\ningest_per_second = 0\n\n')
            if mqtt_port:
                f.write(f'[mqtt]\nurl = "mqtt://127.0.0.1:{mqtt_port}"\n'
                        f'client_id = "monban-bench-{os.getpid()}-{name}"\n\n')
            f.write(hospital)
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = None

    def cli(self, *args):
        return subprocess.run([MONBAN, "--config", self.config, *args], capture_output=True,
                              text=True, check=True).stdout.strip()

    def start(self):
        env = dict(os.environ, RUST_LOG="warn")
        self.proc = subprocess.Popen([MONBAN, "--config", self.config, "serve"], env=env,
                                     stdout=self.log, stderr=self.log)
        end = time.time() + 60
        while time.time() < end:
            try:
                http(f"{self.base}/healthz", timeout=2)
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("the hub did not start; see " + self.log.name)

    def stop(self):
        if self.proc:
            peak = rss_kb(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None
            return peak
        return 0


def hub_rate(hub, broker, path, n):
    """MQTT -> stored and applied: door events per second, all of them stored."""
    labels = {"source": "mqtt", "result": "new"}
    t = time.perf_counter()
    publish(broker.port, f"monban/{SITE}/door/{DOOR}/event", path)
    end = time.time() + 600
    while time.time() < end:
        if metric(hub.base, "monban_door_events_ingested_total", labels) >= n:
            return n / (time.perf_counter() - t)
        time.sleep(0.02)
    raise SystemExit("the hub did not store every event within 10 minutes")


def disk_commit_rate(work, n=2000):
    """One-row commits per second on this disk, as the hub's SQLite store commits."""
    db = sqlite3.connect(os.path.join(work, "disk.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (i INTEGER)")
    t = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN")
        db.execute("INSERT INTO t VALUES (?)", (i,))
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - t)
    db.close()
    return rate


def logins_phase(hub, label):
    token = hub.cli("token", "issue", "--system", "ehr")
    read = hub.cli("token", "issue", "--role", "auditor")
    out = {}
    for c in CONCURRENCY:
        run = subprocess.run(
            [SIM, "load", "--hub", hub.base, "--login-token", token, "--read-token", read,
             "--door-events", "0", "--logins", str(LOGINS), "--concurrency", str(c),
             "--mqtt", "mqtt://127.0.0.1:1"],
            capture_output=True, text=True, check=True)
        rep = json.loads(run.stdout)
        lat = rep["login_latency"]
        r = {"per_second": rep["logins_per_second"], "ok": rep["logins_ok"], **lat}
        out[c] = r
        say(f"  [{label}] logins over HTTP, {c} connections: {r['per_second']:.0f}/s, "
            f"p50 {lat['p50_ms']:.1f} ms, p90 {lat['p90_ms']:.1f} ms, "
            f"p99 {lat['p99_ms']:.1f} ms ({rep['logins_ok']}/{rep['logins_sent']} ok)")
    return out


def big_phase(work, database, count, label):
    hub = Hub(work, database, name=f"big-{label}")
    t = time.perf_counter()
    out = hub.cli("generate", "logins", "--count", str(count), "--days", "365")
    gen = time.perf_counter() - t
    say(f"  [{label}] generated {count} logins through the writer in {gen:.1f} s "
        f"({count / gen:.0f}/s): {out}")
    hub.start()
    read = hub.cli("token", "issue", "--role", "auditor")
    now = datetime.now(timezone.utc)
    def q(frm, to):
        return (f"from={frm.isoformat(timespec='seconds').replace('+00:00', 'Z')}"
                f"&to={to.isoformat(timespec='seconds').replace('+00:00', 'Z')}")
    figures = {"generate_s": gen, "generate_per_s": count / gen}
    for name, url in [
        ("compliance_30d", f"{hub.base}/api/v1/compliance"),
        ("compliance_365d", f"{hub.base}/api/v1/compliance?{q(now - timedelta(days=365), now)}"),
        ("compliance_odd", f"{hub.base}/api/v1/compliance?"
                           f"{q(now - timedelta(days=200, hours=5, minutes=7), now - timedelta(days=3, hours=2))}"),
        ("overview", f"{hub.base}/api/dash/overview"),
        ("system_page", f"{hub.base}/api/dash/system?id=ehr"),
    ]:
        med, best = timed(url, read)
        figures[name + "_ms"] = med * 1000
        say(f"  [{label}] {name}: median {med * 1000:.1f} ms (best {best * 1000:.1f} ms)")
    # An export of about EXPORT logins: the days that hold them.
    days = max(1, round(365 * EXPORT / count))
    frm = (now - timedelta(days=days)).date().isoformat()
    url = f"{hub.base}/export/evidence.csv?from={frm}&to={now.date().isoformat()}"
    rss = []
    done = threading.Event()
    def sample():
        while not done.is_set():
            rss.append(rss_kb(hub.proc.pid, "VmRSS"))
            time.sleep(0.2)
    threading.Thread(target=sample, daemon=True).start()
    t = time.perf_counter()
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {read}"})
    size = lines = 0
    marks = []  # (seconds, lines so far) after every chunk: is the rate steady?
    with urllib.request.urlopen(req, timeout=3600) as r:
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            lines += chunk.count(b"\n")
            marks.append((time.perf_counter() - t, lines))
    secs = time.perf_counter() - t
    done.set()
    # The rate over each tenth of the export: a stream that slowed down as it went
    # (offset pagination, a growing buffer) shows here.
    tenths = []
    for k in range(1, 11):
        goal = lines * k / 10
        start = lines * (k - 1) / 10
        m0 = next(((s_, l_) for s_, l_ in marks if l_ >= start), (0, 0)) if k > 1 else (0, 0)
        m1 = next(((s_, l_) for s_, l_ in marks if l_ >= goal), marks[-1] if marks else (secs, lines))
        if m1[0] > m0[0]:
            tenths.append((m1[1] - m0[1]) / (m1[0] - m0[0]))
    figures["export_tenths_per_s"] = tenths
    figures.update({"export_logins": lines - 1, "export_s": secs,
                    "export_per_s": (lines - 1) / secs, "export_mb": size / 1e6,
                    "export_rss_max_mb": max(rss or [0]) / 1024,
                    "export_rss_first_mb": (rss[0] if rss else 0) / 1024})
    say(f"  [{label}] export: {lines - 1} logins, {size / 1e6:.0f} MB in {secs:.1f} s "
        f"({(lines - 1) / secs:.0f} logins/s); hub RSS during it {min(rss or [0]) / 1024:.0f}"
        f"-{max(rss or [0]) / 1024:.0f} MB")
    if tenths:
        say(f"  [{label}] export rate by tenth: {min(tenths):.0f}-{max(tenths):.0f} logins/s "
            f"(first {tenths[0]:.0f}, last {tenths[-1]:.0f})")
    figures["peak_rss_mb"] = hub.stop() / 1024
    say(f"  [{label}] hub peak RSS {figures['peak_rss_mb']:.0f} MB")
    if "verify" not in SKIP:
        figures.update(verify_phase(hub, database, label))
    return figures


CHAINED = ["door_events", "door_status", "door_outages", "logins", "verdict_changes",
           "maintenance_requests", "inventory_changes", "audit", "evidence"]


def verify_phase(hub, database, label):
    """`monban verify` over the stopped big store, and the time to read every row."""
    t = time.perf_counter()
    out = subprocess.run([MONBAN, "--config", hub.config, "verify"], capture_output=True,
                         text=True)
    secs = time.perf_counter() - t
    line = out.stdout.strip()
    t = time.perf_counter()
    rows = 0
    if database.startswith("sqlite:"):
        path = database[len("sqlite://"):]
        if not os.path.isabs(path):
            path = os.path.join(hub.work, path)
        con = sqlite3.connect(path)
        for tbl in CHAINED:
            for _ in con.execute(f"SELECT * FROM {tbl}"):
                rows += 1
        con.close()
    else:
        for tbl in CHAINED:
            subprocess.run(["psql", database, "-qc", f"COPY (SELECT * FROM {tbl}) TO STDOUT"],
                           stdout=subprocess.DEVNULL, check=True)
        rows = -1
    scan = time.perf_counter() - t
    say(f"  [{label}] verify: {line!r} (exit {out.returncode}) in {secs:.1f} s; "
        f"reading every row of the chained tables: {scan:.1f} s; ratio {secs / scan:.1f}")
    return {"verify_s": secs, "verify_exit": out.returncode, "verify_line": line,
            "scan_all_s": scan, "scan_rows": rows}


def pg_database():
    import urllib.parse
    name = f"monban_bench_{os.getpid()}"
    subprocess.run(["psql", PG, "-qc", f"CREATE DATABASE {name}"], check=True)
    u = urllib.parse.urlparse(PG)
    return name, u._replace(path="/" + name).geturl()


def pg_drop(name):
    subprocess.run(["psql", PG, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])


def run_store(label, database_for, work):
    """The hub phases on one kind of store."""
    res = {}
    if "broker" not in SKIP:
        broker = Mosquitto(work)
        try:
            path = os.path.join(work, "payloads.txt")
            payloads(path, EVENTS, f"{label}-{os.getpid()}")
            raw = raw_rate(broker, path, EVENTS)
            db, cleanup = database_for("mqtt")
            hub = Hub(work, db, broker.port, name=f"mqtt-{label}")
            hub.start()
            time.sleep(1)
            rate = hub_rate(hub, broker, path, EVENTS)
            peak = hub.stop() / 1024
            cleanup()
            res["broker"] = {"raw_per_s": raw, "hub_per_s": rate, "ratio": rate / raw,
                             "events": EVENTS, "peak_rss_mb": peak}
            say(f"  [{label}] door events: raw broker {raw:.0f}/s, hub {rate:.0f}/s, "
                f"ratio {rate / raw:.2f} ({EVENTS} events, all stored; hub peak RSS {peak:.0f} MB)")
        finally:
            broker.stop()
    if "logins" not in SKIP:
        db, cleanup = database_for("logins")
        hub = Hub(work, db, name=f"logins-{label}")
        hub.start()
        res["logins"] = logins_phase(hub, label)
        res["logins"]["peak_rss_mb"] = hub.stop() / 1024
        cleanup()
    if "big" not in SKIP:
        db, cleanup = database_for("big")
        res["big"] = big_phase(work, db, BIG if label == "sqlite" else BIG_PG, label)
        cleanup()
    return res


def main():
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise SystemExit(f"{tool} is missing (Debian: apt-get install mosquitto mosquitto-clients)")
    with tempfile.TemporaryDirectory(prefix="monban-bench-") as work:
        say(f"# {datetime.now(timezone.utc).isoformat(timespec='seconds')} "
            f"{os.cpu_count()} cores; events={EVENTS} logins={LOGINS} big={BIG}")
        if "disk" not in SKIP:
            results["disk_commits_per_s"] = disk_commit_rate(work)
            say(f"  disk: {results['disk_commits_per_s']:.0f} one-row SQLite commits/s "
                f"(synchronous=FULL): the limit of one commit per input")
        def sqlite_db(name):
            path = os.path.join(work, f"{name}.db")
            return f"sqlite://{path}", lambda: None
        if "sqlite" not in SKIP:
            results["sqlite"] = run_store("sqlite", sqlite_db, work)
        if PG:
            def pg_db(name):
                db, url = pg_database()
                return url, lambda: pg_drop(db)
            results["postgres"] = run_store("postgres", pg_db, work)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
