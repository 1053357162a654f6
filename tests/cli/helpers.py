"""Running the real `kith` command in a subprocess against its own throw-away SQLite data directory."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def kith_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KITH_SQLITE_PATH", "KITH_TEST_DB_NAME")}
    env.update({"KITH_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **extra})
    return env


@contextlib.contextmanager
def served_database(data_dir: Path) -> Iterator[dict[str, str]]:
    """Environment for a subprocess `kith`: a fresh SQLite file in data_dir, or, when the suite itself runs
    on PostgreSQL, a fresh database on that server (created here, dropped afterwards)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield kith_env(data_dir)
        return
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    name = f"kith_cli_serve_{os.getpid()}_{data_dir.parent.name[-12:]}".lower()
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    admin = make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        parts = urllib.parse.urlsplit(url)
        yield kith_env(data_dir, DATABASE_URL=urllib.parse.urlunsplit(parts._replace(path=f"/{name}")))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def kith(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kith", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {}),
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """`kith serve` in a subprocess; output collected in a file so the pipe never fills up."""

    def __init__(self, env: dict[str, str], *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(env["KITH_DATA_DIR"]).parent / f"serve-{self.port}.log"
        self.env = env
        self.args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), *args]
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kith", *self.args], env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"kith serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                status, _ = http("GET", self.url + "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"/healthz never answered:\n{self.output()}")

    def stop(self, timeout: float = 40) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT, as Ctrl-C
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"kith serve did not stop on Ctrl-C:\n{self.output()}") from None
        self.log.close()
        return self.proc.returncode
