"""The flags that more than one command has, each defined once, and their checks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nalu_rl.analysis.t_values import DEFAULT_EPISODES, DEFAULT_T_RANGE, resolve_t_values
from nalu_rl.cli import UsageError
from nalu_rl.common.checks import check_int, int_type, parse_int
from nalu_rl.common.renamed import add_renamed

T_LIST_EXAMPLE = "1-30,50,100,200,500,1000"

# Each flag that more than one command has is defined once, here: its name, type, metavar and help text. A command
# passes only its default (and how --help shows it, when that is not the value itself), so a concept cannot drift
# from one command to the next; tests/test_flags.py walks every parser to hold it so.


def shown(default: object = None, *, said: str | None = None) -> str:
    """How --help shows a default, the same for every flag: ``(default 3)``, or in words ``(default: the preset's)``."""
    if said is not None:
        return f"(default: {said})"
    return f"(default {default:,})" if isinstance(default, int) and not isinstance(default, bool) else f"(default {default})"


def add_out(parser: argparse.ArgumentParser, default: Path | None, show: str | None = None) -> None:
    """``--out DIR`` (``args.out``): the folder a command writes into; ``show`` says what a ``None`` default means."""
    parser.add_argument("--out", type=Path, default=default, metavar="DIR",
                        help=f"the folder to write into {shown(default) if show is None else shown(said=show)}")  # fmt: skip


def add_seed(parser: argparse.ArgumentParser, default: int | None = 0) -> None:
    """``--seed N``: the seed of what a command trains (weights, data, environments); ``None`` is 0 for a new run."""
    parser.add_argument("--seed", type=int_type("seed"), default=default, metavar="N",
                        help=f"seed of the training: the initial weights, and the data or environments {shown(0)}")  # fmt: skip


def add_eval_seed(parser: argparse.ArgumentParser) -> None:
    """``--eval-seed N``: the seed of the episodes a trained agent is scored or shown on (``--seed`` once, warned)."""
    parser.add_argument("--eval-seed", type=int_type("seed"), default=0, metavar="N",
                        help="seed of the episodes: episode i starts from reset(seed=N + i), and --sample draws its "
                             f"actions from it {shown(0)}")  # fmt: skip
    add_renamed(parser, "--seed", "--eval-seed", "eval_seed", type=int_type("seed"))


def parse_seeds(text: str) -> list[int]:
    """``"10"`` → seeds 0..9; ``"3,5,8"`` (any comma) → exactly those; ``"4-7"`` → 4..7."""
    text = text.strip()
    try:
        if "," in text:
            seeds = [check_int("seed", parse_int(part)) for part in text.split(",") if part.strip()]
        elif "-" in text.lstrip("-"):
            lo, hi = (check_int("seed", parse_int(part)) for part in text.split("-", 1))
            if lo > hi:
                raise argparse.ArgumentTypeError(f"empty seed range {text!r}")
            seeds = list(range(lo, lo + check_int("seeds", hi - lo + 1)))
        else:
            seeds = list(range(check_int("seeds", parse_int(text))))
        check_int("seeds", len(seeds))
    except ValueError as err:
        if "expected an integer" in str(err):
            err = f"expected a count (10), a list (0,3,5) or a range (4-7), got {text!r}"
        raise argparse.ArgumentTypeError(str(err)) from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"no seeds in {text!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds repeat in {text!r}")
    return seeds


def add_seeds(parser: argparse.ArgumentParser, default: int) -> None:
    """``--seeds N|LIST`` (a list of ints, :func:`parse_seeds`): the seeds of several runs; ``default`` is a count."""
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(default)), metavar="N|LIST",
                        help=f"N seeds 0..N-1, a list 0,3,5 or a range 4-7 {shown(default)}")  # fmt: skip


def add_t_list_argument(parser: argparse.ArgumentParser, show: str) -> None:
    """``--t LIST`` (``args.t_list``, text): values and ranges such as 1-30,50,100, parsed by :func:`check_range`;
    ``show`` says what no ``--t`` means for the command."""
    parser.add_argument("--t", dest="t_list", default=None, metavar="LIST",
                        help=f"instructed T: values and ranges, comma-separated, e.g. {T_LIST_EXAMPLE} {shown(said=show)}")


def add_episodes(parser: argparse.ArgumentParser, default: int, limit: str = "episodes") -> None:
    """``--episodes N``: seeded episodes per T; ``limit`` names the bounds in LIMITS (a GIF holds fewer)."""
    parser.add_argument("--episodes", type=int_type(limit), default=default, metavar="N",
                        help=f"seeded episodes per T, the same start states for every agent {shown(default)}")


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The evaluation flags of ``eval``, ``experiment``, ``sweep`` and ``baseline``; :func:`check_range` gives their T list."""
    lo, hi = DEFAULT_T_RANGE
    add_t_list_argument(parser, f"{lo}-{hi}, or the range --t-min..--t-max")
    parser.add_argument("--t-min", type=int_type("T"), default=None, metavar="T", help=f"smallest instruction T of a range {shown(lo)}")
    parser.add_argument("--t-max", type=int_type("T"), default=None, metavar="T", help=f"largest instruction T of a range {shown(hi)}")
    add_episodes(parser, DEFAULT_EPISODES)


def check_range(args: argparse.Namespace) -> list[int]:
    """The sorted T list of ``--t``, or of the range ``--t-min``..``--t-max``; UsageError for bad or conflicting flags."""
    t_min, t_max = getattr(args, "t_min", None), getattr(args, "t_max", None)
    if args.t_list is not None and (t_min is not None or t_max is not None):
        raise UsageError("give --t or --t-min/--t-max, not both")
    if args.t_list is None:
        lo, hi = (DEFAULT_T_RANGE[0] if t_min is None else t_min), (DEFAULT_T_RANGE[1] if t_max is None else t_max)
        if lo > hi:
            raise UsageError(f"--t-min ({lo}) must not exceed --t-max ({hi})")
        return list(range(lo, hi + 1))
    try:
        return resolve_t_values(args.t_list)
    except ValueError as err:
        raise UsageError(f"--t: {err}") from None


def check_device(device: str) -> None:
    from nalu_rl.common.devices import resolve_device  # imports torch: not for --help

    try:
        resolve_device(device)
    except ValueError as err:
        raise UsageError(f"--device: {err}") from None


def warn_low_frames(command: str, agents: Sequence[str], frames: int | None, env: str | None) -> None:
    """One line on stderr per agent whose preset trains with far more than ``frames``; nothing for the presets' own budgets."""
    if frames is None:
        return
    from nalu_rl.agents.planning import frames_warning
    from nalu_rl.presets import PresetError

    for agent in dict.fromkeys(agents):
        try:
            warning = frames_warning(agent, frames, env)
        except PresetError:  # not one of our presets (the peer) or unknown: the sweep's own checks name it
            continue
        if warning:
            print(f"nalu-rl {command}: {warning}", file=sys.stderr)


def add_device(parser: argparse.ArgumentParser, default: str | None = "cpu") -> None:
    """``--device``: where the networks run; check it with :func:`check_device` before any work."""
    parser.add_argument("--device", default=default, metavar="DEVICE",
                        help=f"cpu, cuda (async workers spread over all GPUs), cuda:N or auto {shown('cpu')}")  # fmt: skip


def add_threads(parser: argparse.ArgumentParser, default: int | None, show: str | None = None) -> None:
    """``--threads N``: torch threads of the process that does the work; ``show`` says what a ``None`` default means."""
    parser.add_argument("--threads", type=int_type("threads"), default=default, metavar="N",
                        help=f"torch threads {shown(default) if show is None else shown(said=show)}")


def add_portable_kernels(parser: argparse.ArgumentParser, also: bool = False) -> None:
    """``--portable-kernels``: acted on by :func:`nalu_rl.cli.main` before torch loads; here for --help and parsing.

    ``also``: a benchmark times the work both ways, so the flag adds a variant there instead of choosing the kernels.
    """
    from nalu_rl.common.kernels import FLAG, PORTABLE

    settings = ", ".join(f"{k}={v}" for k, v in PORTABLE.items())
    kernels = f"float kernels that give the same bits on any x86-64 CPU, slower ({settings})"
    parser.add_argument(FLAG, action="store_true",
                        help=f"also time every configuration with {kernels}" if also else f"{kernels}; recorded in config.json")


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json PATH`` (``args.json``): the results again, as JSON, beside what is printed."""
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")


def add_gif(parser: argparse.ArgumentParser, show: str) -> None:
    """``--gif FILE.gif``: the animation to write (``--out`` once, warned: ``--out`` is a folder everywhere else)."""
    parser.add_argument("--gif", type=Path, default=None, metavar="FILE.gif", help=f"the GIF to write {shown(said=show)}")
    add_renamed(parser, "--out", "--gif", "gif", type=Path)


def add_agent(parser: argparse.ArgumentParser) -> None:
    """``--agent``: the one agent preset a command trains (``--agents`` where there are several)."""
    from nalu_rl import presets

    parser.add_argument("--agent", help=f"agent preset ({', '.join(presets.available('agents'))}) or a TOML file "
                                        "(required for a new run)")  # fmt: skip


def add_agents(parser: argparse.ArgumentParser, default: Sequence[str]) -> None:
    """``--agents lstm,lstm_nac`` and ``--agents lstm lstm_nac`` (and mixtures) alike: one flat list of names."""
    parser.add_argument("--agents", nargs="+", type=parse_agents, action=_AgentList, default=list(default), metavar="A,B",
                        help="agent presets (names or TOML paths), lstm,lstm_nac or lstm lstm_nac; recurrent_ppo adds "
                             f"the SB3 peer {shown(','.join(default))}")  # fmt: skip


def add_env(parser: argparse.ArgumentParser, default: str | None) -> None:
    """``--env``: the environment preset of a command that trains; ``None`` is the default preset, resolved later."""
    from nalu_rl import presets
    from nalu_rl.envs import DEFAULT_PRESET

    parser.add_argument("--env", default=default, help=f"environment preset ({', '.join(presets.available('envs'))}) "
                                                       f"or a TOML file {shown(DEFAULT_PRESET)}")  # fmt: skip


def add_frames(parser: argparse.ArgumentParser, default: int | None, show: str | None = None) -> None:
    """``--frames N``: environment frames of each run; ``show`` says what a ``None`` default means."""
    parser.add_argument("--frames", type=int_type("frames"), default=default, metavar="N",
                        help=f"environment frames each run trains for {shown(default) if show is None else shown(said=show)}")


def parse_agents(text: str) -> list[str]:
    agents = [a.strip() for a in text.split(",") if a.strip()]
    if not agents:
        raise argparse.ArgumentTypeError("give at least one agent, e.g. lstm,lstm_nac")
    return agents


class _AgentList(argparse.Action):
    """The words after ``--agents``, each a comma list: one flat list of names."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, [agent for value in values for agent in value])


def add_training_shape(parser: argparse.ArgumentParser) -> None:
    """``--mode``, ``--workers``, ``--envs-per-worker`` and ``--set`` of a command that trains our agents."""
    preset = shown(said="the preset's")
    parser.add_argument("--mode", choices=("async", "sync"), default=None,
                        help=f"async: A3C, one process per worker; sync: A2C, one process, one batch {preset}")
    parser.add_argument("--workers", type=int_type("workers"), default=None, metavar="N",
                        help=f"async: worker processes; sync: how many workers' batches are stepped as one {preset}")
    parser.add_argument("--envs-per-worker", type=int_type("envs_per_worker"), default=None, metavar="N",
                        help=f"environments each worker steps as one batch {preset}")
    add_overrides(parser)


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (``args.overrides``, read with :func:`parse_overrides`)."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a hyper-parameter of each agent preset trained (of RecurrentPPO in nalu-rl baseline, "
                             "as the sweeps' recurrent_ppo peer takes none), e.g. --set lr=3e-4 (repeatable)")


def add_eval_every(parser: argparse.ArgumentParser, default: int | None, show: str) -> None:
    """``--eval-every FRAMES``: greedy evaluation while a run trains (0: never)."""
    parser.add_argument("--eval-every", type=int_type("eval_every_frames"), default=default, metavar="FRAMES",
                        help="evaluate each run greedily every FRAMES frames while it trains (T 5..20, 30, 100; 0: never): "
                             f"eval_history.csv, eval/ in TensorBoard, checkpoints/best.pt {shown(said=show)}")  # fmt: skip


def add_jobs(parser: argparse.ArgumentParser) -> None:
    """``--jobs N``: runs trained at once by a sweep (``experiment`` is one)."""
    parser.add_argument("--jobs", type=int_type("jobs"), default=None, metavar="N",
                        help=f"runs trained at once "
                             f"{shown(said='as many as the cores hold; on Ray, as many as the cluster schedules')}")


def add_resume(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")


def add_sample(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample", action="store_true", help="sample actions from the policy instead of greedy (argmax)")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``, the one spelling of "print nothing on success" in every command (``--no-progress`` still accepted).

    :func:`nalu_rl.cli.main` acts on it: the command's standard output is discarded and its progress bars are off;
    warnings and errors still go to stderr.
    """
    parser.add_argument("--quiet", action="store_true", help="print nothing on success: no progress bars, tables or "
                        "notes (warnings and errors still go to stderr)")  # fmt: skip
    add_renamed(parser, "--no-progress", "--quiet", "quiet", flag=True)


def parse_overrides(items: Sequence[str]) -> dict:
    """The ``--set KEY=VALUE`` items of a command as a dict; ValueError naming a malformed one."""
    from nalu_rl.agents.config import parse_override

    return dict(parse_override(text) for text in items)
