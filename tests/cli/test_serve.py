"""kith serve in a real subprocess: migrations, granian, the embedded worker, demo mode, and refusing to start."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import Server, free_port, http, kith, kith_env, served_database


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def env(tmp_path):
    """SQLite in a temp KITH_DATA_DIR; on the PostgreSQL run of the suite, a fresh PostgreSQL database."""
    with served_database(tmp_path / "data") as environment:
        yield environment


def test_serve_answers_and_takes_a_contact_over_the_api(env):
    server = Server(env).start()
    try:
        server.wait_healthy()
        status, body = http("GET", server.url + "/healthz")
        assert status == 200 and json.loads(body) == {"status": "ok"}
        status, body = http("GET", server.url + "/login/")
        assert status == 200 and b"<form" in body

        # The new user's path: a user, a token (last word of the last line), a contact.
        created = kith("user", "create", "fresh@example.com", "--password", "Fresh-start-2026!", "--role", "admin",
                       env=env)
        assert created.returncode == 0, created.stderr
        token = kith("token", "create", "fresh@example.com", env=env)
        assert token.returncode == 0, token.stderr
        secret = token.stdout.strip().splitlines()[-1].split()[-1]
        status, body = http("POST", server.url + "/api/v1/contacts",
                            {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
                            {"Authorization": f"Bearer {secret}"})
        assert status == 201, body
        status, _ = http("GET", server.url + "/static/does-not-exist.css")
        assert status == 404
    finally:
        code = server.stop()
    out = server.output()
    assert f"Kith is running at http://127.0.0.1:{server.port}/" in out
    assert code == 0, out
    # one background-job worker on SQLite (one writer); two on PostgreSQL, so a long job does not hold up
    # an import or an export
    workers = [int(pid) for pid in re.findall(r"Kith worker running \(pid (\d+)\)", out)]
    assert len(workers) == (2 if env.get("DATABASE_URL", "").startswith("postgres") else 1), out
    assert not any(_pid_alive(pid) for pid in workers), "a worker outlived kith serve"
    assert out.count("Kith worker stopped") == len(workers), out


def test_user_errors_exit_2_with_one_line(tmp_path):
    env = kith_env(tmp_path / "data")
    assert kith("migrate", "-v0", env=env).returncode == 0
    ok = kith("user", "create", "a@example.com", "--password", "Long-enough-1", env=env)
    assert ok.returncode == 0, ok.stderr
    dup = kith("user", "create", "a@example.com", "--password", "Long-enough-1", env=env)
    assert dup.returncode == 2
    assert len(dup.stderr.strip().splitlines()) == 1 and "already exists" in dup.stderr
    role = kith("user", "create", "b@example.com", "--role", "wizard", env=env)
    assert role.returncode == 2 and "Unknown role" in role.stderr and "Traceback" not in role.stderr


def test_serve_demo_loads_once_and_prints_the_login_every_time(env):
    data = Path(env["KITH_DATA_DIR"])
    server = Server(env, "--demo", "--no-worker").start()
    try:
        server.wait_healthy(timeout=240)
    finally:
        assert server.stop() == 0, server.output()
    first = server.output()
    login = data / "demo-login.txt"
    assert stat.S_IMODE(login.stat().st_mode) == 0o600
    password = next(line.split(":", 1)[1].strip() for line in login.read_text().splitlines()
                    if line.startswith("password:"))
    assert "loading the demo data" in first
    assert "demo@example.com" in first and password in first
    assert f"http://127.0.0.1:{server.port}/login/" in first

    again = Server(env, "--demo", "--no-worker").start()
    try:
        again.wait_healthy()
        status, _ = http("GET", again.url + "/login/")
        assert status == 200
    finally:
        assert again.stop() == 0, again.output()
    second = again.output()
    assert "loading the demo data" not in second
    assert "demo@example.com" in second and password in second
    # The printed password is the demo admin's.
    check = kith("shell", "-c",
                 "from kith.core.models import User;"
                 f"print(User.objects.get(email='demo@example.com').check_password('{password}'))",
                 env=env)
    assert check.stdout.strip().splitlines()[-1] == "True", check.stdout + check.stderr


def test_serve_refuses_to_start_when_the_database_does_not_exist(tmp_path):
    url = os.environ.get("KITH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/kith_test")
    missing = url.rsplit("/", 1)[0] + "/kith_no_such_database_xyz"
    env = kith_env(tmp_path / "data", DATABASE_URL=missing)
    proc = subprocess.run(
        [sys.executable, "-m", "kith", "serve", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 1
    assert "Kith cannot start" in proc.stderr and "kith_no_such_database_xyz" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Kith is running" not in proc.stdout


def test_serve_refuses_to_start_when_a_migration_fails(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # A table in the way: the contacts app's first migration cannot create it.
    with sqlite3.connect(data / "kith.sqlite3") as db:
        db.execute("CREATE TABLE contacts_company (x integer)")
    proc = subprocess.run(
        [sys.executable, "-m", "kith", "serve", "--port", str(free_port())],
        env=kith_env(data), capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = proc.stderr.strip()
    assert "contacts.0001_initial" in message and "already exists" in message
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1
    assert "Kith is running" not in proc.stdout


def _upload(url: str, token: str, path: Path) -> dict:
    """POST /api/v1/imports as multipart/form-data (object_type, file)."""
    import urllib.request

    boundary = "kith-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"object_type\"\r\n\r\ncontact\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "/api/v1/imports", data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_an_import_the_server_stops_midway_is_queued_again_and_the_next_server_finishes_it(env, tmp_path):
    """kith serve's worker is killed at the end of its grace period (KITH_WORKER_STOP_SECONDS) in the middle of
    an import: the import's job goes back to the queue at once (not after the 15-minute stale limit), and the
    next kith serve resumes it after its last committed batch: every row once."""
    import time

    env = {**env, "KITH_WORKER_STOP_SECONDS": "0.5"}
    rows = 60_000
    path = tmp_path / "people.csv"
    path.write_text("First Name,Last Name,Email\n" + "".join(f"P{i},Stop,p{i}@stop.example\n" for i in range(rows)))
    server = Server(env).start()
    try:
        server.wait_healthy()  # (it has migrated the new database)
        assert kith("user", "create", "stop@example.com", "--password", "Stop-start-2026!", "--role", "admin",
                    env=env).returncode == 0
        token = kith("token", "create", "stop@example.com", env=env).stdout.strip().splitlines()[-1].split()[-1]
        auth = {"Authorization": f"Bearer {token}"}
        imp = _upload(server.url, token, path)
        status, body = http("POST", f"{server.url}/api/v1/imports/{imp['id']}/start", {}, auth)
        assert status == 202, body
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # stop the server once the import is under way
            got = json.loads(http("GET", f"{server.url}/api/v1/imports/{imp['id']}", None, auth)[1])
            if got["status"] == "running" and got["progress"]["rows_done"] > 0:
                break
            assert got["status"] in ("queued", "running"), got
            time.sleep(0.05)
    finally:
        server.stop()
    out = server.output()
    assert re.search(r"1 background job\(s\) of worker \d+ were stopped before they ended and are queued again", out), out
    job = kith("shell", "-c", "from kith.core.models import Job; j = Job.objects.get(name='imports.run'); "
                              "print(j.status, '|', j.last_error)", env=env)
    assert job.stdout.strip().splitlines()[-1] == "queued | its worker process ended while it ran; re-queued", (
        job.stdout + job.stderr)

    again = Server(env).start()
    try:
        again.wait_healthy()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            got = json.loads(http("GET", f"{again.url}/api/v1/imports/{imp['id']}", None, auth)[1])
            if got["status"] not in ("queued", "running"):
                break
            time.sleep(0.3)
    finally:
        again.stop()
    assert (got["status"], got["counts"]["created"], got["counts"]["failed"]) == ("done", rows, 0), got
    count = kith("shell", "-c", "from kith.contacts.models import Contact; print(Contact.objects.count())", env=env)
    assert count.stdout.strip().splitlines()[-1] == str(rows), count.stdout + count.stderr
