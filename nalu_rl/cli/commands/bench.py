"""``nalu-rl bench TARGET``: throughput benchmarks, side by side with the peers, in one run.

Each target is a module ``nalu_rl/bench/<target>.py`` with ``add_arguments(parser, flags)`` (``flags``: the
shared flag definitions of :mod:`nalu_rl.cli.args`, handed in so that bench imports nothing of the command line) and
``run(args) -> int`` (and optionally ``HELP``); modules are discovered, so a new benchmark
touches no shared file. Target modules must import lightly at the top (the parser imports them),
and raise ValueError for a bad flag value: :func:`nalu_rl.cli.main` prints it as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from nalu_rl.cli import UsageError
from nalu_rl.cli import args as flags

NAME = "bench"
HELP = "throughput benchmarks next to the peers: 'bench env' (environments), 'bench train' (training loop)"
ORDER = 90


def _targets() -> list[tuple[str, object]]:
    from nalu_rl import bench

    found = []
    for info in pkgutil.iter_modules(bench.__path__):
        module = importlib.import_module(f"{bench.__name__}.{info.name}")
        if callable(getattr(module, "add_arguments", None)) and callable(getattr(module, "run", None)):
            found.append((info.name, module))
    return sorted(found, key=lambda item: item[0])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", parser_class=type(parser))
    for name, module in _targets():
        summary = getattr(module, "HELP", None) or (module.__doc__ or name).strip().splitlines()[0]
        target = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(target, flags)
        flags.add_quiet(target)
        target.set_defaults(_bench=module.run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "_bench", None) is None:
        raise UsageError(f"choose what to benchmark: {', '.join(name for name, _ in _targets())}")
    return int(args._bench(args) or 0)
