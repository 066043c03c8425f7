"""The `aftersales` console command: Django's management commands under one name.

`aftersales serve | migrate | demo | createadmin | import customers FILE | worker ...` and every
other management command (`aftersales shell`, `aftersales check --deploy`, ...).
"""

from __future__ import annotations

import os
import sys

# Friendlier names for commands whose Django name would clash with a keyword or a builtin.
ALIASES = {"import": "import_archive"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftersales", *args])


if __name__ == "__main__":
    main()
