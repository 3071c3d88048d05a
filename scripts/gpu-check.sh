#!/usr/bin/env bash
# Every GPU check and benchmark of kernelwright in one go, for a machine with a CUDA GPU, torch, triton
# and nvcc (run from the repository root). kernelwright itself is used from the source tree
# (PYTHONPATH=server); the pure-Python packages it needs beyond torch (tree-sitter, pygls, lsprotocol,
# pytest-asyncio, pytest-lsp, watchdog) must be importable, e.g. installed with `pip install --target`.
#
#   scripts/gpu-check.sh [OUTDIR]        logs and JSON land in OUTDIR (default build/gpu-check)
#   PARTS="tests costs" scripts/gpu-check.sh   only some parts: tests harness costs optimize persisting
#
# Each part has its own time limit so one slow part cannot eat the others' time; the summary at the end
# says which parts passed. Numbers go to benchmarks/BENCHMARKS.md by hand, with the card and the date.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/gpu-check}
PARTS=${PARTS:-tests harness costs optimize}
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD/server${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
declare -A status

run_part() {  # name, seconds, command...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s): $*"
  timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log" | tail -40
  status[$name]=${PIPESTATUS[0]}
}

for part in $PARTS; do
  case $part in
    tests)
      run_part tests 420 "$PY" -m pytest -q -m gpu -p no:cacheprovider --timeout 240 \
        tests/gpu tests/unit/samples/test_samples_gpu.py tests/unit/engine/test_gpu_engine.py \
        tests/unit/optimize/test_gpu_builtin.py tests/lsp/test_gpu.py ;;
    harness)
      "$PY" -m kernelwright scan --json samples > "$OUT/specs.json"
      run_part harness 480 "$PY" benchmarks/harness.py --device cuda --specs "$OUT/specs.json" \
        --out "$OUT/harness.json" ;;
    costs)
      run_part costs 240 "$PY" benchmarks/harness.py --costs-only --device cuda --out "$OUT/costs.json" ;;
    optimize)
      run_part optimize 580 "$PY" benchmarks/optimize.py --device cuda --total-time 400 \
        --json "$OUT/optimize.json" ;;
    persisting)
      run_part persisting 300 "$PY" benchmarks/persisting_l2.py --json "$OUT/persisting_l2.json" ;;
    *) echo "unknown part: $part (tests harness costs optimize persisting)" >&2; status[$part]=2 ;;
  esac
done

echo "== summary"
rc=0
for part in $PARTS; do
  code=${status[$part]:-2}
  [[ $code == 0 ]] && word=passed || { word="failed (exit $code)"; rc=1; }
  echo "$part: $word"
done
exit $rc
