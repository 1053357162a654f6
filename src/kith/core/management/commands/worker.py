"""kith worker: runs background jobs (webhooks, imports, periodic clean-up) until stopped."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from django.core.management.base import BaseCommand

from kith.core import jobs


class Command(BaseCommand):
    help = (
        "Run background jobs until SIGTERM or Ctrl-C (a job in progress is finished first). "
        "`kith serve` starts one for you unless --no-worker."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="run the jobs that are due, then exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle (default 1)")
        # Set by `kith serve`: stop when that process is gone (e.g. killed with SIGKILL).
        parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        logging.getLogger("kith").setLevel(logging.INFO)
        stop = threading.Event()
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = {}

        def request_stop(signum, frame):
            if stop.is_set():
                raise KeyboardInterrupt  # a second signal: stop right now
            stop.set()

        if in_main_thread:
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, request_stop)
        if options["parent_pid"]:
            threading.Thread(target=_watch_parent, args=(options["parent_pid"], stop), daemon=True).start()
        try:
            if not options["burst"]:
                self.stdout.write(f"Kith worker running (pid {os.getpid()}); jobs: {', '.join(sorted(jobs.registry))}")
                self.stdout.flush()
            ran = jobs.run_worker(stop=stop, poll=options["poll"], burst=options["burst"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"Kith worker stopped; {ran} job{'s' if ran != 1 else ''} run.")


def _watch_parent(pid: int, stop: threading.Event) -> None:
    while not stop.wait(2.0):
        if os.getppid() != pid:
            stop.set()
