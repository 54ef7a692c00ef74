"""The ``nalu-rl`` command line.

Each sub-command lives in its own module under :mod:`nalu_rl.cli.commands` and defines
``NAME``, ``HELP``, ``ORDER`` (position in ``--help``), ``add_arguments(parser)`` and
``run(args) -> int``. Modules are discovered, so adding a command touches no shared file.

Errors a user can cause raise :class:`UsageError` (or ``argparse`` errors): one line on
stderr, exit status 2, no traceback. So do the errors of :data:`USER_ERRORS` that a command's work
raises: the library says a bad value, a missing file or package, an unreachable cluster that way, and
:func:`main` maps them here, once. A command that must say otherwise (a fault after its work started,
exit status 1) catches them itself.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from nalu_rl.cli import commands
from nalu_rl.common import kernels
from nalu_rl.common.errors import first_line
from nalu_rl.common.locks import FolderBusy
from nalu_rl.common.signals import Terminated, loud_again
from nalu_rl.version import __version__


class UsageError(Exception):
    """A mistake the user can fix: printed as one line, exit status 2."""


# What the library raises for a mistake the user can fix (PresetError and ReportError are ValueErrors; an ImportError
# names an optional package to install; ConnectionError a Ray cluster): one line, exit status 2, as UsageError.
USER_ERRORS = (ValueError, FileNotFoundError, ImportError, ConnectionError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _command_modules() -> list:
    mods = [importlib.import_module(f"{commands.__name__}.{m.name}") for m in pkgutil.iter_modules(commands.__path__)]
    return sorted(mods, key=lambda m: (m.ORDER, m.NAME))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nalu-rl",
        description="Timing extrapolation in RL agents with neural arithmetic units (NALU paper §4.5).",
    )
    parser.add_argument("--version", action="version", version=f"nalu-rl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # bench times its runs with and without the portable kernels, each in a process of its own: it pins nothing itself.
    if kernels.FLAG in words and words[:1] != ["bench"]:
        try:  # before the commands' modules load torch
            kernels.pin()
        except RuntimeError as err:
            print(f"nalu-rl: error: {err}", file=sys.stderr)
            return 2
    parser = build_parser()
    if argv is None:  # the command line: imports are done, Ctrl-C is the command's to handle from here
        loud_again()
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the command they were given to ("nalu-rl bench env: error: ..."), as its own mistakes are
        command = " ".join(filter(None, ["nalu-rl", args.command, getattr(args, "target", None)]))
        print(f"{command}: error: unrecognized arguments: {' '.join(extra)}", file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if getattr(args, "quiet", False):  # print nothing on success: what a command says on stdout is discarded
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
                return int(args._run(args) or 0)
        return int(args._run(args) or 0)
    except UsageError as err:
        print(f"nalu-rl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FolderBusy as err:
        print(f"nalu-rl {args.command}: error: {err}", file=sys.stderr)
        return 1
    except (*USER_ERRORS, *MEMORY_ERRORS, OSError) as err:
        if _out_of_memory(err):  # memory refused (a library that could not be mapped too): not the user's to fix by a flag
            print(f"nalu-rl {args.command}: error: {out_of_memory_line()}", file=sys.stderr)
            return 1
        if isinstance(err, USER_ERRORS):
            print(f"nalu-rl {args.command}: error: {_user_error_line(err)}", file=sys.stderr)
            return 2
        if isinstance(err, OSError):  # a read-only folder, a full disk, a file in the way: the path and the cause
            print(f"nalu-rl {args.command}: error: {os_error_line(err)}", file=sys.stderr)
            return 1
        raise
    except Terminated:
        print(f"nalu-rl {args.command}: terminated", file=sys.stderr)
        return 128 + Terminated.signum
    except KeyboardInterrupt:
        print(f"nalu-rl {args.command}: interrupted", file=sys.stderr)
        return 130


def _user_error_line(err: Exception) -> str:
    """One line for an error of :data:`USER_ERRORS`: the OS's words for a file it did not find, else the first line."""
    if isinstance(err, OSError) and err.strerror:
        return os_error_line(err)
    return first_line(err)


def os_error_line(err: OSError) -> str:
    """``PATH: cause`` for an OSError, in the OS's words (``No space left on device``, ``Read-only file system``)."""
    cause = err.strerror or str(err)
    return cause if err.filename is None else f"{err.filename}: {cause}"


# How the loader and torch's allocator say that the memory they asked for was refused.
_NO_MEMORY = ("failed to map segment", "cannot allocate memory", "can't allocate memory", "out of memory")


# What running out of memory raises: Python's own error, or the loader's and torch's in their words (_NO_MEMORY).
MEMORY_ERRORS = (MemoryError, ImportError, OSError, RuntimeError)


def _out_of_memory(err: BaseException) -> bool:
    return isinstance(err, MemoryError) or any(words in str(err).lower() for words in _NO_MEMORY)


def out_of_memory_line() -> str:
    """What to say when memory ran out, with the address-space limit (``ulimit -v``) when one is set."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return "out of memory: free some, or train a smaller batch (--envs-per-worker)"
    return f"out of memory under an address-space limit of {limit >> 20:,} MiB (ulimit -v): raise it, or train a smaller batch"


def entry() -> None:
    try:
        status = main()
    except MEMORY_ERRORS as err:  # building the parser loads torch for some commands
        if not _out_of_memory(err):
            raise
        print(f"nalu-rl: error: {out_of_memory_line()}", file=sys.stderr)
        status = 1
    sys.exit(status)
