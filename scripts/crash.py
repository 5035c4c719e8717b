#!/usr/bin/env python3
"""Crash consistency of ringline's writing commands (RELIABILITY.md, "Crash consistency").

Kills the `ringline` binary with SIGKILL at a random moment while it runs

* `import members FILE --apply` of the member file written by `ringline generate --out DIR
  --format csv|xlsx --members 100000` (111,810 rows), alternating CSV and XLSX, on a database holding their
  divisions, units and party organizations;
* `dispatch confirm B` of the demo's draft batch (it has a plan), on the demo database;
* `divisions import ../shared/data/china/villages.csv.gz --only 53 --apply` (Yunnan: the
  national table's province of about 15,000 villages), on a new database;

N times each, every time on a fresh copy of the database before the command (SQLite: a copy of
the file; PostgreSQL: a new database created from a template on the local server). After each
kill it checks

* SQLite: `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` is empty;
  PostgreSQL: amcheck's `verify_heapam` of every table and `bt_index_check` (heapallindexed) of
  every B-tree index find nothing, and no foreign-key row lacks its referenced row;
* the row count of every table is exactly the count before the command or exactly the count
  after an uninterrupted run (all tables together: one or the other, never a mix);
* ringline opens the database again (`ringline zones list`).

A kill is a process crash: the operating system keeps what the process wrote. Power loss is
another matter (see RELIABILITY.md).

Usage (from the repository root, after `cargo build --release`):

    scripts/crash.py --backend sqlite --trials 30
    scripts/crash.py --backend postgres --trials 30 \
        --pg-url postgres://postgres:postgres@127.0.0.1/postgres

Exit status 0 when every trial passed, 1 otherwise. Needs Python 3.9+ and, for PostgreSQL, `psql`
and the amcheck extension (postgresql-contrib). Not part of the test suite.
"""

import argparse
import datetime
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(args, **kw):
    """Runs a command; fails loudly with its output."""
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(args)}\n{p.stdout}\n{p.stderr}")
    return p.stdout


class Sqlite:
    name = "sqlite"

    def __init__(self, work):
        self.work = work

    def url(self, db):
        return os.path.join(self.work, db + ".db")

    def create_empty(self, db):
        self.drop(db)

    def copy(self, base, trial):
        self.drop(trial)
        shutil.copyfile(self.url(base), self.url(trial))

    def seal(self, db):
        """Folds the write-ahead log into the file, so the file alone is the database."""
        c = sqlite3.connect(self.url(db))
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()

    def drop(self, db):
        for suffix in ("", "-wal", "-shm", ".lock"):
            try:
                os.remove(self.url(db) + suffix)
            except FileNotFoundError:
                pass

    def counts(self, db):
        c = sqlite3.connect(self.url(db))
        tables = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {t: c.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        c.close()
        return out

    def problems(self, db):
        c = sqlite3.connect(self.url(db))
        found = []
        integrity = [r[0] for r in c.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            found.append("integrity_check: " + "; ".join(integrity[:5]))
        fk = c.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            found.append(f"foreign_key_check: {len(fk)} rows, e.g. {fk[:3]}")
        c.close()
        return found


class Postgres:
    name = "postgres"

    def __init__(self, admin_url):
        self.admin_url = admin_url

    def url(self, db):
        base, _, query = self.admin_url.partition("?")
        scheme, _, rest = base.partition("://")
        authority = rest.split("/", 1)[0]
        return f"{scheme}://{authority}/{db}" + (f"?{query}" if query else "")

    def sql(self, db_url, sql):
        return run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db_url, "-c", sql])

    def create_empty(self, db):
        self.drop(db)
        self.sql(self.admin_url, f"CREATE DATABASE {db}")

    def copy(self, base, trial):
        self.drop(trial)
        self.sql(self.admin_url, f"CREATE DATABASE {trial} TEMPLATE {base}")

    def seal(self, db):
        pass

    def drop(self, db):
        self.sql(self.admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    def counts(self, db):
        tables = self.sql(self.url(db),
                          "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").split()
        query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM public.\"{t}\"" for t in tables)
        out = {}
        for line in self.sql(self.url(db), query).splitlines():
            t, n = line.split("|")
            out[t] = int(n)
        return dict(sorted(out.items()))

    def problems(self, db):
        url = self.url(db)
        found = []
        self.sql(url, "CREATE EXTENSION IF NOT EXISTS amcheck")
        heap = self.sql(url, """
            SELECT c.relname || ': ' || v.msg
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                 LATERAL verify_heapam(c.oid) v
            WHERE n.nspname = 'public' AND c.relkind = 'r'""").strip()
        if heap:
            found.append("verify_heapam: " + heap[:500])
        self.sql(url, """
            SELECT bt_index_check(c.oid, true)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE am.amname = 'btree' AND n.nspname = 'public'""")
        # Every foreign key, checked by hand: child rows whose key is set and has no parent.
        checks = self.sql(url, """
            SELECT format('SELECT %L, count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                          con.conname, con.conrelid::regclass, string_agg(format('c.%I IS NOT NULL', a.attname), ' AND '),
                          con.confrelid::regclass, string_agg(format('p.%I = c.%I', af.attname, a.attname), ' AND '))
            FROM pg_constraint con
                 CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(child, parent)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.child
                 JOIN pg_attribute af ON af.attrelid = con.confrelid AND af.attnum = k.parent
            WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace
            GROUP BY con.oid, con.conname, con.conrelid, con.confrelid""").splitlines()
        if checks:
            for line in self.sql(url, " UNION ALL ".join(checks)).splitlines():
                name, n = line.split("|")
                if int(n) != 0:
                    found.append(f"foreign key {name}: {n} rows without their referenced row")
        self.sql(url, "DROP EXTENSION amcheck")
        return found


def prepare(backend, binary, work, members_files, division_file):
    """Builds the three base databases; returns the scenarios."""
    env = dict(os.environ, LANG="C")
    env.pop("DATABASE_URL", None)

    def cli(db, args):
        return run([binary, "--database-url", backend.url(db)] + args, cwd=work, env=env)

    scenarios = []
    # Members: divisions (first start), units and organizations of the generated files.
    # (The CSV and XLSX files hold the same records: one seed.)
    backend.create_empty("crash_base_members")
    units, orgs, _ = members_files["csv"]
    cli("crash_base_members", ["import", "units", units, "--apply"])
    cli("crash_base_members", ["import", "orgs", orgs, "--apply"])
    backend.seal("crash_base_members")
    scenarios.append({
        "name": "import members --apply (the files of generate --members 100000)",
        "base": "crash_base_members",
        "commands": [["import", "members", members_files[f][2], "--apply"] for f in ("csv", "xlsx")],
    })
    # Dispatch: the demo database and its draft batch.
    backend.create_empty("crash_base_dispatch")
    cli("crash_base_dispatch", ["generate"])
    batches = cli("crash_base_dispatch", ["dispatch", "list", "--format", "csv"]).splitlines()
    header = batches[0].split(",")
    drafts = [line.split(",") for line in batches[1:] if "draft" in line.split(",")]
    if not drafts:
        raise SystemExit("the demo database has no draft batch")
    batch_id = drafts[0][header.index("id")]
    backend.seal("crash_base_dispatch")
    scenarios.append({
        "name": f"dispatch confirm {batch_id} (the demo's draft batch)",
        "base": "crash_base_dispatch",
        "commands": [["dispatch", "confirm", batch_id]],
    })
    # Divisions: a new database (Datong seed) and a province of the national table.
    backend.create_empty("crash_base_divisions")
    cli("crash_base_divisions", ["zones", "list"])
    backend.seal("crash_base_divisions")
    scenarios.append({
        "name": "divisions import villages.csv.gz --only 53 --apply (Yunnan)",
        "base": "crash_base_divisions",
        "commands": [["divisions", "import", division_file, "--only", "53", "--apply"]],
    })
    return scenarios


def timed_run(binary, url, args, cwd, env):
    started = time.monotonic()
    p = subprocess.run([binary, "--database-url", url] + args, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed uninterrupted ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return time.monotonic() - started


def trial_scenario(backend, binary, work, scenario, trials, rng):
    env = dict(os.environ, LANG="C")
    env.pop("DATABASE_URL", None)
    base = scenario["base"]
    before = backend.counts(base)
    # The state after an uninterrupted run, and how long a run takes (each command).
    durations = []
    after = None
    for cmd in scenario["commands"]:
        backend.copy(base, "crash_trial")
        durations.append(timed_run(binary, backend.url("crash_trial"), cmd, work, env))
        state = backend.counts("crash_trial")
        if after is not None and state != after:
            raise SystemExit(f"{scenario['name']}: the commands do not end in the same state")
        after = state
    changed = {t: (before[t], after[t]) for t in after if before.get(t) != after[t]}
    log(f"{backend.name}: {scenario['name']}: uninterrupted {', '.join(f'{d:.2f} s' for d in durations)}; "
        f"changes {changed}")
    result = {"scenario": scenario["name"], "trials": 0, "before": 0, "after": 0, "finished": 0, "failures": [],
              "full_seconds": durations, "changed_tables": changed}
    for i in range(trials):
        which = i % len(scenario["commands"])
        cmd = scenario["commands"][which]
        backend.copy(base, "crash_trial")
        delay = rng.uniform(0.0, durations[which] * 1.1)
        p = subprocess.Popen([binary, "--database-url", backend.url("crash_trial")] + cmd, cwd=work, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        finished = p.poll() is not None
        if not finished:
            p.send_signal(9)
        p.wait()
        problems = backend.problems("crash_trial")
        state = backend.counts("crash_trial")
        if state == before:
            side = "before"
        elif state == after:
            side = "after"
        else:
            side = "mixed"
            diff = {t: (before.get(t), state.get(t), after.get(t)) for t in state
                    if state.get(t) not in (before.get(t), after.get(t)) or state.get(t) != before.get(t)}
            problems.append(f"counts are neither before nor after: (before, now, after) {diff}")
        reopen = subprocess.run([binary, "--database-url", backend.url("crash_trial"), "zones", "list",
                                 "--format", "csv"], cwd=work, env=env, capture_output=True, text=True)
        if reopen.returncode != 0:
            problems.append(f"ringline cannot open it again: {reopen.stderr.strip()[:300]}")
        result["trials"] += 1
        result["finished"] += finished
        if side in ("before", "after"):
            result[side] += 1
        if problems:
            result["failures"].append({"trial": i + 1, "command": cmd, "delay": round(delay, 3),
                                       "problems": problems})
        log(f"  trial {i + 1}/{trials}: {' '.join(cmd[:2])} killed after {delay:.3f} s"
            f"{' (it had finished)' if finished else ''}: {side}"
            f"{'; PROBLEMS: ' + ' | '.join(problems) if problems else ''}")
    backend.drop("crash_trial")
    return result


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'}), {mem} memory, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--trials", type=int, default=30, help="kills per scenario (default 30)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/ringline"))
    ap.add_argument("--pg-url", default=os.environ.get("RINGLINE_TEST_DATABASE_URL", ""),
                    help="PostgreSQL admin URL (may CREATE DATABASE); default $RINGLINE_TEST_DATABASE_URL")
    ap.add_argument("--data", default=os.path.join(ROOT, "../shared/data/china"),
                    help="folder of the national division table (villages.csv.gz …)")
    ap.add_argument("--seed", type=int, default=None, help="random seed of the kill moments")
    ap.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no ringline binary at {binary}: run `cargo build --release` first")
    division_file = os.path.abspath(os.path.join(args.data, "villages.csv.gz"))
    if not os.path.exists(division_file):
        raise SystemExit(f"no national division table at {division_file}: give --data DIR")
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="ringline-crash-")
    try:
        if args.backend == "sqlite":
            backend = Sqlite(work)
        else:
            if not args.pg_url:
                raise SystemExit("give --pg-url or set RINGLINE_TEST_DATABASE_URL")
            backend = Postgres(args.pg_url)
        files = {}
        for fmt in ("csv", "xlsx"):
            out = os.path.join(work, fmt)
            listed = run([binary, "generate", "--out", out, "--format", fmt, "--members", "100000"], cwd=work)
            paths = [p for p in listed.splitlines() if p.strip()]
            units = next(p for p in paths if "units" in os.path.basename(p))
            orgs = next(p for p in paths if "orgs" in os.path.basename(p))
            members = [p for p in paths if "members" in os.path.basename(p)]
            if len(members) != 1:
                raise SystemExit(f"expected one members file, got {members}")
            files[fmt] = (units, orgs, members[0])
        scenarios = prepare(backend, binary, work, files, division_file)
        started = datetime.datetime.now(datetime.timezone.utc)
        results = []
        for s in scenarios:
            if args.only and args.only not in s["name"]:
                continue
            results.append(trial_scenario(backend, binary, work, s, args.trials, rng))
        for s in scenarios:
            backend.drop(s["base"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"backend: {backend.name}; date: {started:%Y-%m-%d %H:%M} UTC; commit: {commit}; seed: {seed}")
    print(f"machine: {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print()
    print("| scenario | trials | before | after (of which it had finished) | failures | uninterrupted run |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for r in results:
        failed += len(r["failures"])
        print(f"| {r['scenario']} | {r['trials']} | {r['before']} | {r['after']} ({r['finished']}) | {len(r['failures'])} | "
              f"{' / '.join(f'{d:.2f} s' for d in r['full_seconds'])} |")
    for r in results:
        for f in r["failures"]:
            print(f"FAILURE {r['scenario']} trial {f['trial']} after {f['delay']} s: {'; '.join(f['problems'])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
