#!/usr/bin/env bash
# Fill .whl/ (git-ignored) with the wheels that scripts/gpu/run.sh installs on the GPU machine:
# CPython 3.12 on x86-64 Linux, no package index there, a CUDA build of torch already installed.
#
#   bash scripts/gpu/fetch_wheels.sh          # here, where pip reaches the package index
#
# The versions are the ones this project is tested with. run.sh installs a wheel only when its
# distribution is missing on the machine, so the machine's own builds (numpy, matplotlib, ...,
# which its torch was installed with) win wherever they exist; the copies here are the fallback.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Not in the GPU image (KINDS.md's package list): always needed.
REQUIRED=(
    gymnasium==1.4.0 farama-notifications==0.0.6
)
# In the GPU image as last listed; carried in case a machine lacks one. Their own dependencies
# are listed too, since the wheels are installed with --no-deps.
FALLBACK=(
    cloudpickle==2.1.0 typing-extensions==4.15.0 numpy==2.4.6 tqdm==4.70.1
    tensorboard==2.21.0 tensorboard-data-server==0.7.2 protobuf==7.36.2 absl-py==2.5.1 markdown==3.11.3
    werkzeug==3.1.8 markupsafe==3.0.3 six==1.17.0 packaging==26.4 setuptools==84.2.1
    matplotlib==3.11.2 contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0 kiwisolver==1.5.1 pillow==13.0.0
    pyparsing==3.3.2 python-dateutil==2.9.0.post0
    pytest==9.0.3 iniconfig==2.3.0 pluggy==1.6.0 pygments==2.20.0 hypothesis==6.155.2 sortedcontainers==2.4.0
)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64)

mkdir -p .whl
grep -qx '.whl/' .gitignore || { echo ".whl/ is not in .gitignore: the wheels must not be tracked" >&2; exit 1; }
args=(--no-deps --only-binary=:all: --python-version 3.12 --implementation cp -d .whl -q)
for p in "${PLATFORMS[@]}"; do args+=(--platform "$p"); done
# (the grep drops the warnings that a local find-links entry of this pip configuration prints)
python3 -m pip download "${args[@]}" "${REQUIRED[@]}" "${FALLBACK[@]}" 2> >(grep -v "is ignored: it is neither" >&2)

# One version of each distribution, or the install there stops: drop wheels of other versions.
keep=$(printf '%s\n' "${REQUIRED[@]}" "${FALLBACK[@]}" | python3 -c '
import re, sys
print("\n".join(re.sub(r"[-_.]+", "_", line.strip()).lower().replace("==", "-") for line in sys.stdin))')
for wheel in .whl/*.whl; do
    stem=$(basename "$wheel" | python3 -c 'import re, sys; n = sys.stdin.read().strip().split("-"); print(re.sub(r"[-_.]+", "_", n[0]).lower() + "-" + n[1])')
    grep -qx "$stem" <<<"$keep" || { echo "removing $wheel (not in the pinned list)"; rm -f "$wheel"; }
done
ls .whl/*.whl | wc -l | xargs echo "wheels:"
du -sh .whl | cut -f1 | xargs echo "total size:"
