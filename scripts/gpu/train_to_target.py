"""Train one agent until its greedy success is >= a target on every T of a range, and time it.

One ``nalu-rl train`` process trains without a break; every checkpoint it writes (every
``--checkpoint-interval`` seconds) is copied aside and evaluated here while training goes on.
The first checkpoint that reaches the target on every T stops the run; so does the time budget.
The checkpoint claimed is then evaluated once more as ``nalu-rl eval`` does (``extrapolation.json``
in its own run folder), and that file decides PASS or FAIL.

    python scripts/gpu/train_to_target.py --device cuda --work /tmp/work --json train.json --result result.txt
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nalu_rl.agents import load_agent
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.analysis.evaluate import evaluate_run
from nalu_rl.common import files
from nalu_rl.common.signals import StopSignals
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.runs import RESULT_FILE

POLL_S = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--agent", default="lstm_countdown")
    p.add_argument("--env", default="fast")
    p.add_argument("--envs-per-worker", type=int, default=4096)
    p.add_argument("--lr", type=float, default=3e-3, help="the agent presets' own rate by default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", default="1e12", help="the run's frame target: the budget or the success stops it first")
    p.add_argument("--budget-s", type=float, default=130.0, help="wall time after which training is stopped")
    p.add_argument("--checkpoint-interval", type=float, default=10.0, help="seconds between the checkpoints evaluated")
    p.add_argument("--t-min", type=int, default=5)
    p.add_argument("--t-max", type=int, default=12)
    p.add_argument("--episodes", type=int, default=200, help="greedy episodes per T")
    p.add_argument("--target", type=float, default=0.95, help="greedy success needed on every T")
    p.add_argument("--work", type=Path, required=True, help="folder for the run and its snapshots")
    p.add_argument("--json", type=Path, required=True, help="where the timeline and the result go")
    p.add_argument("--result", type=Path, required=True, help="one line: PASS or FAIL and why")
    return p.parse_args(argv)


def train_command(args: argparse.Namespace, run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "nalu_rl", "train", "--agent", args.agent, "--env", args.env, "--mode", "sync",
        "--workers", "1", "--envs-per-worker", str(args.envs_per_worker), "--device", args.device,
        "--frames", args.frames, "--seed", str(args.seed), "--set", f"lr={args.lr}",
        "--checkpoint-interval", str(args.checkpoint_interval), "--out", str(run_dir), "--quiet",
    ]  # fmt: skip


def snapshot(run_dir: Path, into: Path) -> dict:
    """Copy config.json and the latest checkpoint into a run folder of their own; the checkpoint's counters."""
    (into / "checkpoints").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "config.json", into / "config.json")
    # checkpoints are replaced atomically (os.replace): the copy is the old file or the new one
    shutil.copyfile(run_dir / "checkpoints" / "latest.pt", into / "checkpoints" / "latest.pt")
    saved = load_checkpoint(into / "checkpoints" / "latest.pt")
    return {"frames": saved["frames"], "updates": saved["updates"]}


def success_by_t(args: argparse.Namespace, run_dir: Path) -> dict[int, float]:
    agent = load_agent(run_dir, device=args.device)
    results = evaluate(agent, range(args.t_min, args.t_max + 1), args.episodes, device=args.device)
    return {r["T"]: r["success_rate"] for r in results}


def stop_trainer(trainer: subprocess.Popen, signalled: bool) -> None:
    """Stop the trainer with one SIGTERM (it saves a last checkpoint); a second one would stop it unsaved."""
    if signalled:  # `timeout` signals the whole process group: the trainer has had its SIGTERM too
        try:
            trainer.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            pass
    if trainer.poll() is None:
        trainer.terminate()
        try:
            trainer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            trainer.kill()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_dir, snap = args.work / "run", args.work / "snapshot"
    doc = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
           "command": train_command(args, run_dir), "evaluations": [], "result": "FAIL"}  # fmt: skip
    start = time.time()
    log_path = args.work / "train.log"
    log = log_path.open("w")  # the trainer's output, for its whole life
    trainer = subprocess.Popen(doc["command"], stdout=log, stderr=subprocess.STDOUT)
    latest, seen, passed = run_dir / "checkpoints" / "latest.pt", None, None
    try:
        with StopSignals(interrupt=True):
            while passed is None and time.time() - start < args.budget_s:
                stamp = latest.stat().st_mtime_ns if latest.exists() else None
                if stamp is None or stamp == seen:
                    if trainer.poll() is not None:
                        break
                    time.sleep(POLL_S)
                    continue
                seen = stamp
                counters = snapshot(run_dir, snap)
                if counters["frames"] == 0:
                    continue
                began = time.time()
                by_t = success_by_t(args, snap)
                row = {**counters, "train_wall_s": round(stamp / 1e9 - start, 2), "eval_s": round(time.time() - began, 2),
                       "min_success": min(by_t.values()), "success_by_T": by_t}  # fmt: skip
                doc["evaluations"].append(row)
                print(
                    f"{row['train_wall_s']:8.1f} s  {row['frames']:>13,} frames  worst success {row['min_success']:.3f}",
                    flush=True,
                )
                if row["min_success"] >= args.target:
                    passed = row
                    shutil.copytree(snap, args.work / "passed", dirs_exist_ok=True)
    except KeyboardInterrupt:
        doc["interrupted"] = True
    finally:
        stop_trainer(trainer, signalled=doc.get("interrupted", False))
        log.close()
        doc["trainer_returncode"] = trainer.wait()
        doc["train_log_tail"] = log_path.read_text(errors="replace").splitlines()[-30:]
        doc["wall_s"] = round(time.time() - start, 2)
        files.write_json(args.json, doc)

    claimed = args.work / "passed" if passed else snap
    if not passed and latest.exists():
        doc["final"] = snapshot(run_dir, snap)
    if (claimed / "checkpoints" / "latest.pt").exists():
        evaluate_run(claimed, t_min=args.t_min, t_max=args.t_max, episodes=args.episodes, device=args.device)
        results = json.loads((claimed / RESULT_FILE).read_text())["results"]
        worst = min((r for r in results if args.t_min <= r["T"] <= args.t_max), key=lambda r: r["success_rate"])
        ok = worst["success_rate"] >= args.target
        frames = load_checkpoint(claimed / "checkpoints" / "latest.pt")["frames"]
        wall = passed["train_wall_s"] if passed else doc["wall_s"]
        line = (f"{'PASS' if ok else 'FAIL'}: worst greedy success {worst['success_rate']:.3f} (T = {worst['T']}) over T in "
                f"{args.t_min}..{args.t_max}, target {args.target}; {frames:,} frames, {wall:.1f} s of training "
                f"({args.agent}, {args.env}, 1 x {args.envs_per_worker} envs on {args.device}, lr {args.lr})")  # fmt: skip
        doc.update(result="PASS" if ok else "FAIL", claimed=str(claimed), frames=frames, train_wall_s=wall, extrapolation=results)
    else:
        line = f"FAIL: no checkpoint was written (trainer exit status {doc['trainer_returncode']}; see train.log)"
    doc["line"] = line
    files.write_json(args.json, doc)
    files.write_text(args.result, line + "\n")
    print(line)
    return 0 if doc["result"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
