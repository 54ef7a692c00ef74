#!/usr/bin/env bash
# The GPU check, end to end, in one command: install, the `cuda` tests, `bench env`, `bench train`,
# and one training run to >= 95 % greedy success on every T in 5..12. See scripts/gpu/README.md.
#
#   bash scripts/gpu/run.sh                                         # on the GPU machine: --device cuda, $OUT
#   bash scripts/gpu/run.sh --device cpu --quick --out /tmp/gpu_rehearsal  # the CPU rehearsal, tiny sizes
#
# Options: --device cuda|cpu (default cuda); --quick (tiny sizes, for the rehearsal); --out DIR
# (default $OUT); --phases LIST (comma-separated, default tests,bench-env,bench-train,train; the
# install always runs first); --deadline SECONDS (default 480, 1500 with --quick). Every phase has
# its own time limit, cut to what is left before the deadline; a phase that fails or runs out of
# time is recorded and the next one runs. KEEP_WORK=1 keeps the work folder. Everything measured goes into at most 8 files in the output folder (run.log, summary.json,
# result.txt, tests.txt, bench_env.json, bench_train.json, train.json, train_run.tar.gz).
set -uo pipefail
set -a  # every variable is exported: the phases run as `bash -c FUNCTION` under `timeout`

DEVICE=cuda QUICK=0 OUTDIR=${OUT:-} PHASES=tests,bench-env,bench-train,train DEADLINE=
while [ $# -gt 0 ]; do
    case $1 in
        --device) DEVICE=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --out) OUTDIR=$2; shift 2 ;;
        --phases) PHASES=$2; shift 2 ;;
        --deadline) DEADLINE=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$OUTDIR" ] || { echo "run.sh: give --out DIR (or set OUT)" >&2; exit 2; }
cd "$(dirname "$0")/../.." || exit 2
REPO=$PWD
mkdir -p "$OUTDIR" && OUTDIR=$(cd "$OUTDIR" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nalu-gpu-work.XXXXXX")
[ "${KEEP_WORK:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT  # what matters is in the output folder by then
SITE=${SITE:-$WORK/site}
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg TQDM_DISABLE=1 PIP_ROOT_USER_ACTION=ignore
exec > >(tee -a "$OUTDIR/run.log") 2>&1

# Sizes: the GPU run, and the rehearsal's tiny ones. Phase limits (seconds) add up to the deadline.
if [ "$QUICK" = 1 ]; then
    : "${DEADLINE:=1500}"
    LIMIT_INSTALL=240 LIMIT_TESTS=600 LIMIT_BENCH_ENV=240 LIMIT_BENCH_TRAIN=300 LIMIT_TRAIN=120
    ENV_KS=1,64 ENV_SECONDS=0.2
    TRAIN_CONFIGS="sync:1x16 sync:1x64 async:2x16" TRAIN_UPDATES=4 CONFIG_LIMIT=120
    TARGET_ENVS=16 TARGET_BUDGET=45 TARGET_INTERVAL=5 TARGET_EPISODES=20
else
    : "${DEADLINE:=480}"
    LIMIT_INSTALL=40 LIMIT_TESTS=100 LIMIT_BENCH_ENV=85 LIMIT_BENCH_TRAIN=95 LIMIT_TRAIN=160
    ENV_KS=1,4096,65536,262144,1048576 ENV_SECONDS=0.5
    TRAIN_CONFIGS="sync:1x1024 sync:1x4096 sync:1x16384 sync:1x65536 async:4x4096 async:8x4096" TRAIN_UPDATES=30 CONFIG_LIMIT=35
    TARGET_ENVS=4096 TARGET_BUDGET=130 TARGET_INTERVAL=10 TARGET_EPISODES=200
fi
TARGET_AGENT=lstm_countdown TARGET_ENV=fast TARGET_LR=3e-3

START=$(date +%s)
left() { echo $((DEADLINE - ($(date +%s) - START))); }
# slice MAX: seconds for one step of a phase, at most MAX and what is left of the phase
slice() { local t=$((PHASE_END - $(date +%s))); [ "$t" -gt "$1" ] && t=$1; echo "$t"; }
merge() { "$PY" -c 'import json, sys; from pathlib import Path
rows = [r for p in sorted(Path(sys.argv[1]).glob("*.json")) for r in json.loads(p.read_text())]
Path(sys.argv[2]).write_text(json.dumps(rows, indent=2) + "\n")' "$1" "$2"; }
note() { echo "$*" >"$WORK/note"; }  # a remark a phase leaves for its line in result.txt
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$WORK/phases.tsv"; "$PY" scripts/gpu/summary.py "$WORK" "$OUTDIR"; }
wanted() { [[ ",$PHASES," == *",$1,"* ]]; }

# phase NAME LIMIT FUNCTION: run FUNCTION under min(LIMIT, time left), record how it ended.
phase() {
    local name=$1 limit=$2 fn=$3 t began rc status
    [ "$name" = install ] || wanted "$name" || return 0
    t=$(left); [ "$t" -lt "$limit" ] && limit=$t
    if [ "$limit" -lt 10 ]; then
        echo "=== $name: skipped, $(left) s left before the deadline"; record "$name" skipped 0 "no time left"; return 0
    fi
    echo "=== $name (limit ${limit} s, $(left) s left) $(date -u +%H:%M:%S)"
    rm -f "$WORK/note"; began=$(date +%s); PHASE_END=$((began + limit)) PHASE_LIMIT=$limit
    timeout -k 20 "$limit" bash -c "$fn"; rc=$?
    status=ok; [ $rc -ne 0 ] && status="failed (exit $rc)"; [ $rc -eq 124 ] && status="timed out"
    echo "=== $name: $status after $(($(date +%s) - began)) s"
    record "$name" "$status" $(($(date +%s) - began)) "$(cat "$WORK/note" 2>/dev/null)"
}

install() {
    # Only the wheels whose distribution is missing here: the machine's own builds win.
    local missing
    missing=$("$PY" - .whl <<'EOF'
import re, sys
from importlib import metadata
from pathlib import Path
for wheel in sorted(Path(sys.argv[1]).glob("*.whl")):
    name = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        print(wheel)
EOF
)
    echo "wheels to install: ${missing:-none}" | tr '\n' ' '; echo
    if [ -n "$missing" ]; then
        # shellcheck disable=SC2086
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" $missing || return 1
    fi
    export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
    # The project itself, for its entry points (the repository's source, on sys.path first, is what runs).
    "$PY" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --upgrade --target "$SITE/project" . \
        || echo "note: the project did not install; running from the source tree"
    export PYTHONPATH=$PYTHONPATH:$SITE/project
    "$PY" - "$WORK/machine.json" "$DEVICE" <<'EOF'
import json, os, platform, subprocess, sys
import gymnasium, numpy, torch
import nalu_rl
info = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
        "gymnasium": gymnasium.__version__, "nalu_rl": nalu_rl.__version__, "cpus": os.cpu_count(),
        "device": sys.argv[2], "cuda_available": torch.cuda.is_available()}
if torch.cuda.is_available():
    info["gpu"] = torch.cuda.get_device_name(0)
    info["cuda"] = torch.version.cuda
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True)
    info["nvidia_smi"] = smi.stdout.strip()
print(json.dumps(info))
open(sys.argv[1], "w").write(json.dumps(info, indent=2))
if sys.argv[2].startswith("cuda") and not torch.cuda.is_available():
    sys.exit("CUDA is not available to torch here")
EOF
}

tests() {
    local rc
    [ "$DEVICE" = cpu ] && export NALU_RL_CUDA_TESTS_DEVICE=cpu  # the rehearsal runs the same tests on the CPU
    "$PY" -m pytest -q -m cuda tests/test_cuda.py -rs -p no:cacheprovider 2>&1 | tee "$OUTDIR/tests.txt"; rc=${PIPESTATUS[0]}
    unset NALU_RL_CUDA_TESTS_DEVICE
    if [ $rc -eq 0 ] && grep -q " skipped" "$OUTDIR/tests.txt"; then note "some tests were skipped"; return 3; fi
    return $rc
}

bench_env() {
    # One `bench env` per observation mode, so that pixels running out of time keeps the grid's figures.
    local failed=0 mode t
    mkdir -p "$WORK/bench_env"
    for mode in grid pixels; do
        t=$(slice "$PHASE_LIMIT"); [ "$t" -lt 10 ] && { echo "bench env $mode: skipped, no time left"; failed=1; continue; }
        timeout -k 10 "$t" "$PY" -m nalu_rl bench env --devices "$DEVICE" --ks "$ENV_KS" --sync-ks= --modes "$mode" \
            --seconds "$ENV_SECONDS" --json "$WORK/bench_env/$mode.json" || { echo "bench env $mode: failed ($?)"; failed=1; }
        merge "$WORK/bench_env" "$OUTDIR/bench_env.json"
    done
    return $failed
}

bench_train() {
    # One `bench train` per configuration, each with its own limit and frames for TRAIN_UPDATES updates
    # per worker (n_steps 16), so that a slow one costs only itself.
    local failed=0 config workers envs frames t
    mkdir -p "$WORK/bench_train"
    for config in $TRAIN_CONFIGS; do
        workers=${config#*:}; workers=${workers%x*}; envs=${config#*x}
        frames=$((TRAIN_UPDATES * workers * envs * 16))
        t=$(slice "$CONFIG_LIMIT")
        [ "$t" -lt 10 ] && { echo "bench train $config: skipped, no time left"; failed=1; continue; }
        echo "--- bench train $config, $frames frames (limit $t s)"
        timeout -k 10 "$t" "$PY" -m nalu_rl bench train --device "$DEVICE" --configs "$config" --frames "$frames" \
            --ppo-frames 0 --json "$WORK/bench_train/${config//[:]/_}.json" || { echo "bench train $config: failed ($?)"; failed=1; }
        merge "$WORK/bench_train" "$OUTDIR/bench_train.json"
    done
    return $failed
}

train_to_target() {
    local rc
    mkdir -p "$WORK/target"
    "$PY" scripts/gpu/train_to_target.py --device "$DEVICE" --agent "$TARGET_AGENT" --env "$TARGET_ENV" \
        --envs-per-worker "$TARGET_ENVS" --lr "$TARGET_LR" --budget-s "$TARGET_BUDGET" \
        --checkpoint-interval "$TARGET_INTERVAL" --episodes "$TARGET_EPISODES" --t-min 5 --t-max 12 --target 0.95 \
        --work "$WORK/target" --json "$OUTDIR/train.json" --result "$WORK/target/result.txt"; rc=$?
    [ -f "$WORK/target/result.txt" ] && note "$(cut -c1-4 "$WORK/target/result.txt")"
    # the run folder (config, checkpoints, TensorBoard), the checkpoint claimed with its extrapolation.json, the log
    tar -czf "$OUTDIR/train_run.tar.gz" -C "$WORK/target" . 2>/dev/null
    return $rc
}

export -f left slice merge note install tests bench_env bench_train train_to_target
echo "run.sh: device $DEVICE, quick $QUICK, deadline $DEADLINE s, output $OUTDIR, work $WORK"
phase install "$LIMIT_INSTALL" install
export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}:$SITE/project
phase tests "$LIMIT_TESTS" tests
phase bench-env "$LIMIT_BENCH_ENV" bench_env
phase bench-train "$LIMIT_BENCH_TRAIN" bench_train
phase train "$LIMIT_TRAIN" train_to_target
echo "=== done in $(($(date +%s) - START)) s; $(find "$OUTDIR" -type f | wc -l) files in $OUTDIR"
cat "$OUTDIR/result.txt"
