"""The ``examroom`` command: builds the parser from the command modules and runs the one asked for.

Each command group is a module of this package with ``add_parser(subparsers)``, which sets the
function that runs it; this module only dispatches and turns broken inputs into one line and
exit status 2. Command modules import what they run inside their run functions, so building the
whole parser stays cheap for every command.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys

from examroom.cli import (city, course, db, demo, examday, export, judge, rejudge, replay, rules, seal_key, selfcheck,
                          serve, users, verify)
from examroom.messages import SupervisorError

# In the order ``examroom --help`` lists them.
COMMANDS = (judge, rules, rejudge, course, demo, users, verify, seal_key, db, city, examday, export, serve, selfcheck,
            replay)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="examroom", description="科目二 exam-room controller")
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    # A crash in native code (OpenCV, FFmpeg, dlib) prints every thread's Python stack on standard
    # error, where a course's service manager keeps it, instead of leaving only "signal 11".
    # And ``kill -USR1 <pid>`` prints them without stopping it: what a hung course is doing.
    try:
        faulthandler.enable()
        faulthandler.register(signal.SIGUSR1, all_threads=True, chain=False)
    except (OSError, ValueError, AttributeError):
        pass  # standard error is not a file (a caller's captured stream): nothing to write to
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``examroom rules --json | head``): not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as exc:
        return _failed(args.command, exc)


def _failed(command: str, exc: Exception) -> int:
    """One clear line on standard error and status 2 for broken inputs; anything else is a bug and raises."""
    if isinstance(exc, FileNotFoundError):
        print(f"examroom {command}: no such file: {exc.filename}", file=sys.stderr)
        return 2
    if isinstance(exc, (ValueError, OSError, SupervisorError)):
        # Broken inputs (course file, journal, settings) and refusals (a slip before the seal, in
        # Chinese: examroom.messages) get one clear line, not a trace.
        print(f"examroom {command}: {exc}", file=sys.stderr)
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    if not isinstance(exc, SQLAlchemyError):
        raise exc
    # A database that cannot be reached or read (server down, not examroom's): its own words.
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    print(f"examroom {command}: database: {reason}", file=sys.stderr)
    return 2


# The commands that run a course: cameras and their decoding threads, the face models.
HARD_EXIT_COMMANDS = ("demo", "serve")


def entry() -> None:
    """The ``examroom`` program and ``python -m examroom.cli.main``: :func:`main`, then exit.

    A command that ran a course has stopped, written and flushed everything when it returns. The
    interpreter's own teardown then frees the native libraries' state (OpenCV and FFmpeg, dlib) in
    an order they do not all survive: under load the demo ended with signal 11 or 6 after its clean
    stop, about one run in ten (faulthandler: the main thread alone, no Python frame). Such a
    command therefore leaves without that teardown, once its logs and output are flushed.
    """
    argv = sys.argv[1:]
    code = main(argv)
    if argv and argv[0] in HARD_EXIT_COMMANDS:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
