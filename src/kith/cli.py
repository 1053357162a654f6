"""The `kith` command: Django's management commands under Kith's settings.

    kith serve | worker | migrate | user | token | demo | seed | bench | check | …
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kith.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["kith", *argv])
    args[0] = "kith"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
