#!/usr/bin/env bash
# The GPU tables of bench/RESULTS.md in one command, on a device machine (its image has
# JAX with CUDA, optax, equinox and scikit-learn; not glum, celer, skglm or jaxopt):
#
#   bash bench/device.sh            # there, as the device tool's `run` command
#   python bench/_benchcommon.py merge <the RESULTS.md it sent back>   # here, afterwards
#   PYTHON=.venv/bin/python bash bench/device.sh --dry-run   # here: every step, --quick
#
# Each script records into bench/RESULTS.md under "<name>-gpu" markers (the CPU tables
# stay), and the file is copied to $OUT after every script, so what finished comes back
# even when a later one runs out of time; so do the logs. Most important first: the
# λ-batched MLP sweep (rj.sweep against the loop on the GPU), then the paths against the
# JAX peers on the same GPU (the CPU peers are in the CPU tables).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
OUT=${OUT:-/tmp/regjax-device}
mkdir -p "$OUT"
extra=()
if [[ ${1:-} == --dry-run ]]; then
    extra=(--quick --no-record)
else
    "$PYTHON" -c "import jax; print(jax.__version__, jax.devices())
assert jax.default_backend() != 'cpu'" \
        || { echo "no accelerator: bench/device.sh is for a device machine" >&2; exit 2; }
fi
run() {  # run SECONDS SCRIPT ARGS...: one script under a time limit, logged, then copied
    local limit=$1 script=$2
    shift 2
    timeout "$limit" "$PYTHON" "bench/$script.py" "$@" "${extra[@]}" 2>&1 | tee "$OUT/$script.log"
    echo "$script: exit ${PIPESTATUS[0]}" | tee -a "$OUT/status.txt"
    cp bench/RESULTS.md "$OUT/RESULTS.md"
}
run 240 bench_mlp_sweep
run 170 bench_logistic_path --jax-only --budget 10
run 80 bench_l1_path --jax-only
run 50 bench_ridge_path
