"""kith serve: migrate, then run Kith under granian (WSGI) with an embedded background-job worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from kith.core import jobs
from kith.core.management.util import database_label, database_problem


class Command(BaseCommand):
    help = (
        "Apply pending migrations, then serve Kith with granian (WSGI) and run the background-job worker. "
        "Static files are served by WhiteNoise; no collectstatic step is needed. Ctrl-C stops everything."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("KITH_HOST", "127.0.0.1"),
                            help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
        parser.add_argument("--port", type=int, default=int(os.environ.get("KITH_PORT", "8000")),
                            help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("KITH_WORKERS", "1")),
                            help="web worker processes (default 1)")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("KITH_THREADS", "0")) or None,
                            help="request threads per web worker (default 2 × CPU cores + 1, at most 8)")
        parser.add_argument("--demo", action="store_true",
                            help="on an empty database, load demo data and create a demo admin; print its login")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not start the background-job worker (run `kith worker` yourself)")
        parser.add_argument("--job-workers", type=int,
                            default=int(os.environ.get("KITH_JOB_WORKERS", "0")) or None,
                            help="background-job worker processes (default 2 on PostgreSQL, so an import or an "
                                 "export does not wait for a long scan; 1 on SQLite, which has one writer)")
        parser.add_argument("--access-log", action="store_true", help="log every request")

    # --- start-up steps -----------------------------------------------------------------------------

    def fail(self, message: str) -> CommandError:
        return CommandError(" ".join(message.split()), returncode=1)

    def check_database(self) -> None:
        problem = database_problem()
        if problem:
            problem = problem.rstrip(". ?") if not problem.endswith("?") else problem[:-1]
            raise self.fail(
                f"Kith cannot start: it cannot reach its database ({database_label()}): {problem}. "
                "Check DATABASE_URL (or KITH_DATA_DIR for SQLite), that the server is running and that the "
                "database exists; nothing was changed."
            )

    def migrate(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if not plan:
            return
        self.stdout.write(f"Applying {len(plan)} database migration{'s' if len(plan) != 1 else ''} …")
        self.stdout.flush()
        try:
            call_command("migrate", interactive=False, verbosity=0)
        except Exception as exc:
            failed = self._failed_migration(plan)
            error = " ".join(str(exc).split()).rstrip(".") or exc.__class__.__name__
            raise self.fail(
                f"Kith cannot start: the database migration {failed} failed on the {database_label()} "
                f"with {exc.__class__.__name__}: {error}. Migrations applied before it were kept; the failed "
                "one was rolled back where the database allows it. Fix the cause (or restore a backup) "
                "and run `kith serve` again, or run `kith migrate --traceback` for details."
            ) from exc

    @staticmethod
    def _failed_migration(plan) -> str:
        try:
            connections[DEFAULT_DB_ALIAS].close()
            applied = MigrationExecutor(connections[DEFAULT_DB_ALIAS]).recorder.applied_migrations()
        except Exception:
            applied = {}
        for migration, _backwards in plan:
            if (migration.app_label, migration.name) not in applied:
                return f"{migration.app_label}.{migration.name}"
        return "(unknown)"

    def run_checks(self) -> None:
        try:
            self.check(databases=[DEFAULT_DB_ALIAS], display_num_errors=False)
        except SystemCheckError as exc:
            raise CommandError(f"Kith cannot start: {exc}", returncode=1) from None

    def demo(self, url: str) -> list[str]:
        from kith.core.management import demodata

        lines = []
        if demodata.database_is_empty():
            self.stdout.write("Empty database: loading the demo data (about 15 seconds) …")
            self.stdout.flush()
            try:
                demodata.load(stdout=None)
            except Exception as exc:
                raise self.fail(
                    f"Kith cannot start: loading the demo data failed with {exc.__class__.__name__}: {exc}. "
                    "Nothing of it was kept; start without --demo, or run `kith demo --traceback` for details."
                ) from exc
        login = demodata.read_login()
        if login is None:
            lines.append("The database already had contacts, so no demo data was loaded and there is no demo login.")
        else:
            email, password = login
            lines.append(f"Sign in at {url}login/ with  {email}  /  {password}")
            lines.append(f"(saved in {demodata.login_file()})")
        return lines

    # --- serving ------------------------------------------------------------------------------------

    def check_port(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
        except OSError as exc:
            raise self.fail(
                f"Kith cannot start: it cannot listen on {host}:{port} ({exc.strerror or exc}). Is another Kith "
                "or web server using that port? Choose another with --port."
            ) from None

    def handle(self, *args, **options):
        try:
            self.start(options)
        except KeyboardInterrupt:
            self.stderr.write("Interrupted; Kith did not start.")
            raise SystemExit(130) from None

    def start(self, options):
        host, port = options["host"], options["port"]
        self.check_port(host, port)
        self.check_database()
        self.migrate()
        self.run_checks()
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a display name only
        shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host
        url = f"http://{shown_host}:{port}/"
        demo_lines = self.demo(url) if options["demo"] else []
        # WhiteNoise serves app static files through its finders; it only warns when STATIC_ROOT is missing.
        os.makedirs(settings.STATIC_ROOT, exist_ok=True)
        connections.close_all()  # web workers are forked; they must not share the parent's connection

        count = options["job_workers"] or (2 if connections[DEFAULT_DB_ALIAS].vendor == "postgresql" else 1)
        worker = None if options["no_worker"] else WorkerSupervisor(self.stderr, count=max(1, count))
        if worker:
            worker.start()

        self.stdout.write("")
        everywhere = " (listening on every interface)" if host in ("0.0.0.0", "::") else ""  # noqa: S104
        self.stdout.write(f"Kith is running at {url}{everywhere}")
        for line in demo_lines:
            self.stdout.write(line)
        if host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::") and host not in settings.ALLOWED_HOSTS:  # noqa: S104
            self.stdout.write(f"Note: add {host} to KITH_ALLOWED_HOSTS to accept requests addressed to it.")
        self.stdout.write(f"Database: {database_label()}. Press Ctrl-C to stop.")
        self.stdout.write("")
        self.stdout.flush()
        try:
            self.serve_http(options)
        finally:
            if worker:
                worker.stop()

    def serve_http(self, options) -> None:
        from granian import Granian
        from granian.constants import Interfaces

        threads = max(1, options["threads"] or min(8, 2 * (os.cpu_count() or 1) + 1))
        server = Granian(
            "kith.wsgi:application",
            address=options["host"],
            port=options["port"],
            interface=Interfaces.WSGI,
            workers=max(1, options["workers"]),
            blocking_threads=threads,
            backpressure=threads * 4,
            log_access=options["access_log"],
            websockets=False,
            respawn_failed_workers=True,
            workers_kill_timeout=30,
        )
        try:
            server.serve()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise CommandError(
                    f"The web server stopped with an error (exit code {exc.code}); see the log above.",
                    returncode=1,
                ) from None


class WorkerSupervisor:
    """Runs ``count`` `kith worker` child processes (they share the queue: each job runs once), restarts one
    that dies, and stops them with the server."""

    def __init__(self, stderr, count: int = 1):
        self.stderr = stderr
        self.procs: list[subprocess.Popen | None] = [None] * count
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="kith-worker-supervisor", daemon=True)

    def _spawn(self, i: int) -> None:
        # Its own process group: a Ctrl-C at the terminal reaches the web server first; we stop the
        # worker after the server has drained, with SIGTERM (a job in progress is finished first).
        self.procs[i] = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "kith", "worker", "--parent-pid", str(os.getpid())], start_new_session=True, env=os.environ.copy()
        )

    def start(self) -> None:
        for i in range(len(self.procs)):
            self._spawn(i)
        self.thread.start()

    def _watch(self) -> None:
        delay = 1.0
        while not self.stopping.wait(1.0):
            for i, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None:
                    self.stderr.write(f"A background-job worker exited (code {proc.returncode}); restarting it.")
                    self._requeue(proc)
                    if self.stopping.wait(delay):
                        return
                    delay = min(delay * 2, 60)
                    self._spawn(i)

    def _requeue(self, proc: subprocess.Popen) -> None:
        """The jobs the ended worker process was running go back to the queue now (not after the stale
        limit): the next worker, or the next `kith serve`, takes them up."""
        try:
            requeued = jobs.requeue_of_process(proc.pid)
        except Exception as exc:  # (the database is gone too: the stale limit re-queues them later)
            self.stderr.write(f"Could not re-queue the jobs of worker {proc.pid}: {exc}")
            return
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()
        if requeued:
            self.stderr.write(f"{requeued} background job(s) of worker {proc.pid} were stopped before they ended "
                              "and are queued again.")

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM to each worker (it finishes the job in progress), then, after ``timeout`` seconds
        (KITH_WORKER_STOP_SECONDS, 30), kill; a killed worker's jobs are queued again."""
        if timeout is None:
            timeout = float(os.environ.get("KITH_WORKER_STOP_SECONDS", "30"))
        self.stopping.set()
        running = [p for p in self.procs if p is not None and p.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in running) and time.monotonic() < deadline:
            time.sleep(0.1)
        for proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                self._requeue(proc)
