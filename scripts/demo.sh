#!/usr/bin/env bash
# The README's first command (`make demo`): improve a torch sample end to end on this machine, with the
# builtin provider (no API key, no GPU needed), then check the result with `kernelwright verify`.
#
# The sample is LayerNorm + tanh-GELU spelled out as a dozen eager ops; torch.compile (Inductor, which
# needs a C compiler on the CPU) fuses it, which the search finds and verifies. samples/ is never
# modified: the search rewrites a copy under build/demo/ (--apply), and `verify` then checks that copy
# against the untouched original in a fresh worker.
#
# Settings (environment): KERNELWRIGHT (the command; default .venv/bin/kernelwright, else the PATH's),
# DEMO_DIR (default build/demo), DEMO_DEVICE (default cpu: the same figures on every machine; cuda on a
# GPU), DEMO_BUDGET (default rounds=1,candidates=2,limit=300).
set -euo pipefail
cd "$(dirname "$0")/.."

KW=${KERNELWRIGHT:-}
if [[ -z $KW ]]; then
  if [[ -x .venv/bin/kernelwright ]]; then KW=.venv/bin/kernelwright; else KW=kernelwright; fi
fi
SAMPLE=samples/pytorch/layernorm_gelu_unfused.py
WORK=${DEMO_DIR:-build/demo}
DEVICE=${DEMO_DEVICE:-cpu}
# Two torch.compile variants, counted rather than timed: each runs in a fresh worker and compiles cold
# (~20 s on 2 idle cores, a minute or more on a busy laptop), and is given the time it needs up to the
# safety limit, which the output names if it is ever hit.
BUDGET=${DEMO_BUDGET:-rounds=1,candidates=2,limit=300}

if [[ $DEVICE == cpu ]] && ! command -v "${CXX:-g++}" >/dev/null && ! command -v "${CC:-gcc}" >/dev/null; then
  echo "demo: torch.compile on the CPU needs a C++ compiler; install one (apt-get install g++)" >&2
  exit 2
fi

rm -rf "$WORK"
# Its own store, so the demo's history stays in the demo folder rather than the repository's.
mkdir -p "$WORK/.kernelwright"
copy="$WORK/$(basename "$SAMPLE")"
cp "$SAMPLE" "$copy"

start=$(date +%s)
echo "== kernelwright optimize $copy --device $DEVICE --budget $BUDGET --apply"
"$KW" optimize "$copy" --device "$DEVICE" --budget "$BUDGET" --apply --report "$WORK/report.html"
if cmp -s "$SAMPLE" "$copy"; then
  echo "demo: the search found no verified speedup on this machine, so the copy is unchanged" >&2
  exit 1
fi

echo
echo "== kernelwright verify $SAMPLE $copy --device $DEVICE"
"$KW" verify "$SAMPLE" "$copy" --device "$DEVICE"

echo
echo "demo: done in $(($(date +%s) - start)) s; the optimized file is $copy, the report $WORK/report.html"
