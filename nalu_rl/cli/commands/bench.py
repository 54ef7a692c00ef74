"""``nalu-rl bench TARGET``: throughput benchmarks, side by side with the peers, in one run.

Each target is a module ``nalu_rl.bench.<target>`` with ``add_arguments(parser)`` and ``run(args)``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import nalu_rl.bench

NAME = "bench"
HELP = "throughput benchmarks (env, train), side by side with the peers"
ORDER = 90


def _targets() -> dict:
    return {m.name: importlib.import_module(f"nalu_rl.bench.{m.name}") for m in pkgutil.iter_modules(nalu_rl.bench.__path__)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True, parser_class=type(parser))
    for name, module in sorted(_targets().items()):
        target = sub.add_parser(name, help=module.__doc__.splitlines()[0], description=module.__doc__)
        module.add_arguments(target)
        target.set_defaults(_bench=module.run)


def run(args: argparse.Namespace) -> int:
    return args._bench(args)
