"""The ``news-monitor`` command: arguments in, exit codes out. The only place errors become messages.

Exit codes: 0 success; 1 the command ran but something it did failed (``once`` with a failing feed, seed
file or delivery, ``backtest`` on bad input); 2 usage or config error; 3 database error; 4 not found; 130
interrupted. A reader that goes away (``news-monitor deliveries --all | head``) ends the command quietly with 0.

Each command group is a module (``daemon``: run, once, check-config; ``stories``; ``status``; ``feeds``;
``pages``: pages, inspect; ``deliveries``; ``matching``: backtest, fit; ``about``: demo, version) with a
``register(add)`` for its arguments and ``cmd_*`` functions that parse, call the service layer
(``monitor.service.queries`` for what they read from the database) and print. ``parser.py`` assembles them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from monitor.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_STORE, EXIT_USAGE
from monitor.cli.parser import build_parser
from monitor.core.redact import redact_text
from monitor.errors import ConfigError, MonitorError, StoreError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "stories" and args.action == "show" and not args.id:
        parser.error("stories show needs a story ID")
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, not at exit: a reader that went away is handled below
        return code
    except BrokenPipeError:
        # The reader of our stdout went away (`| head`): that is how pipes end, not an error. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again (Python's signal docs recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as e:
        print(f"news-monitor: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as e:
        print(f"news-monitor: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_STORE
    except MonitorError as e:
        print(f"news-monitor: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
