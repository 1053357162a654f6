#!/usr/bin/env python3
"""Run Kith's whole test suite on SQLite, then on PostgreSQL, and print one summary line at the very end.

    python scripts/test.py                  # both databases (PostgreSQL must be reachable)
    python scripts/test.py --sqlite-only    # SQLite only
    python scripts/test.py -- -k search     # anything after -- goes to pytest

PostgreSQL: KITH_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/kith_test); the tests
run in a database named test_kith_ci that Django creates and drops. Each run gets a fresh temporary
KITH_DATA_DIR. With two or more cores both databases run at the same time (-j 1 for one after the
other, with live output). Browser tests drive /usr/bin/chromium (or KITH_CHROMIUM) and must run, not skip.

First ruff (the code) and mypy (the services pyproject lists) run, each counted as one result
(--no-checks skips them). The last line reads like "412 passed, 0 failed" (", 3 skipped" may follow); the exit code is non-zero
if anything failed, a run crashed, PostgreSQL was unreachable, or no test ran.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/kith_test"
PG_TEST_DB = "test_kith_ci"
BROWSER_WORDS = ("chromium", "playwright", "browser")


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.notes += other.notes


def postgres_problem(url: str) -> str | None:
    """None when the server answers (checked through its maintenance database), else the reason."""
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    params = conninfo_to_dict(url)
    params["dbname"] = "postgres"
    try:
        with psycopg.connect(**params, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return " ".join(str(exc).split())
    return None


def drop_test_database(url: str) -> None:
    """A test database left behind by an interrupted run (or one still held by a stray session) goes first."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    params["dbname"] = "postgres"
    try:
        with psycopg.connect(**params, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_TEST_DB)))
    except Exception as exc:
        print(f"Could not drop an old {PG_TEST_DB}: {' '.join(str(exc).split())}", file=sys.stderr)


def parse_junit(path: Path) -> Counts:
    counts = Counts()
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest run wrote it
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            counts.failed += 1
        elif (skipped := case.find("skipped")) is not None:
            reason = f"{skipped.get('message') or ''} {skipped.text or ''}".lower()
            if any(word in reason for word in BROWSER_WORDS) or ".browser." in f".{case.get('classname')}.":
                counts.failed += 1
                counts.notes.append(f"{name} was skipped, but browser tests must run: {reason.strip()[:200]}")
            else:
                counts.skipped += 1
        else:
            counts.passed += 1
    return counts


@dataclass
class Run:
    label: str
    tmp: tempfile.TemporaryDirectory
    proc: subprocess.Popen
    junit: Path
    log: Path | None
    started: float


def start_suite(label: str, db_env: dict[str, str], pytest_args: list[str], *, to_log: bool) -> Run:
    tmp = tempfile.TemporaryDirectory(prefix=f"kith-test-{label.split()[0].lower()}-")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "KITH_SQLITE_PATH", "KITH_TEST_DB_NAME", "KITH_DATA_DIR")}
    env.update({"KITH_DATA_DIR": str(Path(tmp.name) / "data"), "PYTHONUNBUFFERED": "1", **db_env})
    junit = Path(tmp.name) / "junit.xml"
    # Test paths given after -- replace the default "tests".
    paths = [] if any((ROOT / a.split("::")[0]).exists() for a in pytest_args if not a.startswith("-")) else ["tests"]
    cmd = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q", "-rfE",
           f"--junitxml={junit}", "-o", "junit_family=xunit2", *pytest_args]
    log = Path(tmp.name) / "pytest.log" if to_log else None
    if log is None:
        print(f"\n===== {label} =====", flush=True)
    out = open(log, "w") if log else None  # noqa: SIM115 - closed when the run is collected
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)  # noqa: S603
    return Run(label, tmp, proc, junit, log, time.monotonic())


def finish_suite(run: Run) -> Counts:
    code = run.proc.wait()
    minutes = (time.monotonic() - run.started) / 60
    if run.log is not None:
        print(f"\n===== {run.label} =====", flush=True)
        print(run.log.read_text(errors="replace"), end="", flush=True)
    if not run.junit.exists():
        counts = Counts(failed=1, notes=[f"{run.label}: pytest stopped before writing results (exit code {code})"])
    else:
        counts = parse_junit(run.junit)
        if code not in (0, 1):
            counts.failed += 1
            counts.notes.append(f"{run.label}: pytest exited with code {code} (interrupted, usage or internal error)")
        if counts.passed + counts.failed + counts.skipped == 0:
            counts.failed += 1
            counts.notes.append(f"{run.label}: no test ran")
    print(f"----- {run.label}: {counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped "
          f"in {minutes:.1f} min", flush=True)
    run.tmp.cleanup()
    return counts


def static_checks() -> Counts:
    """ruff over the code, and mypy over the services pyproject's [tool.mypy] lists: one result each."""
    counts = Counts()
    with tempfile.TemporaryDirectory(prefix="kith-checks-") as tmp:
        env = {**os.environ, "KITH_DATA_DIR": tmp}  # mypy's Django plugin loads the settings
        env.pop("DATABASE_URL", None)
        for label, cmd in (("ruff", [sys.executable, "-m", "ruff", "check", "src", "tests", "scripts"]),
                           ("mypy", [sys.executable, "-m", "mypy"])):
            started = time.monotonic()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603 - our own tools
            if proc.returncode == 0:
                counts.passed += 1
                print(f"----- {label}: clean ({time.monotonic() - started:.0f} s)", flush=True)
            else:
                counts.failed += 1
                counts.notes.append(f"{label} found problems (above)")
                print(f"===== {label} =====\n{proc.stdout}{proc.stderr}", flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite-only", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument("--postgres-only", action="store_true", help="skip the SQLite run")
    parser.add_argument("-j", "--jobs", type=int, default=2 if (os.cpu_count() or 1) >= 2 else 1,
                        help="1 runs the databases one after the other with live output; 2 (the default on "
                             "two or more cores) runs them at the same time")
    parser.add_argument("--no-checks", action="store_true", help="skip ruff and mypy (run first, about 10 s)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    total = Counts()
    if not args.no_checks:
        total.add(static_checks())
    pg_url = os.environ.get("KITH_TEST_POSTGRES_URL") or DEFAULT_PG
    if not args.sqlite_only:
        problem = postgres_problem(pg_url)
        if problem:
            print(f"PostgreSQL at {pg_url} is unreachable: {problem}\n"
                  "Start PostgreSQL, set KITH_TEST_POSTGRES_URL, or pass --sqlite-only.", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
    if not args.sqlite_only:
        drop_test_database(pg_url)
    suites = []
    if not args.postgres_only:
        suites.append(("SQLite", {}))
    if not args.sqlite_only:
        suites.append((f"PostgreSQL ({pg_url.rsplit('@', 1)[-1]})",
                       {"DATABASE_URL": pg_url, "KITH_TEST_DB_NAME": PG_TEST_DB, "KITH_TEST_POSTGRES_URL": pg_url}))
    parallel = args.jobs > 1 and len(suites) > 1
    if parallel:
        print(f"Running {' and '.join(label for label, _ in suites)} at the same time; "
              "each one's output follows when it is done.", flush=True)
        runs = [start_suite(label, env, args.pytest_args, to_log=True) for label, env in suites]
        waited = time.monotonic()
        while any(r.proc.poll() is None for r in runs):
            time.sleep(2)
            if time.monotonic() - waited > 60:
                waited = time.monotonic()
                busy = ", ".join(r.label for r in runs if r.proc.poll() is None)
                print(f"… still running: {busy}", flush=True)
        for run in runs:
            total.add(finish_suite(run))
    else:
        for label, env in suites:
            total.add(finish_suite(start_suite(label, env, args.pytest_args, to_log=False)))
    if not args.sqlite_only:
        drop_test_database(pg_url)
    for note in total.notes:
        print(f"NOTE: {note}")
    summary = f"{total.passed} passed, {total.failed} failed"
    if total.skipped:
        summary += f", {total.skipped} skipped"
    print(summary, flush=True)
    return 1 if total.failed or total.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
