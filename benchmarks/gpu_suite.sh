#!/bin/bash
# The suite on a GPU machine without pygls/tree-sitter installed: wheels carried in .whl/ and bubblewrap in
# .box/bwrap (both git-ignored; see the device notes), run from the repository root, results under $OUT.
# PROBLEMS (files), BUDGET, SUITE_S (seconds per suite process) and GPU_TESTS (pytest args) are optional.
# Results: $OUT/gpu_suite.tgz (unpack with tar xzf), and a line per problem on stdout.
# Device run: calibrate, then the suite split over GPUs 0..N-2 (problem i on GPU i mod (N-1)), and tests/gpu on the last GPU.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl >/dev/null 2>&1
# ninja (torch's load_inline) lives beside the interpreter, which need not be on PATH
export PATH=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))'):$PATH
export PYTHONPATH=/tmp/site:$PWD/server:$PWD/tests KERNELWRIGHT_BWRAP=$PWD/.box/bwrap TORCHINDUCTOR_COMPILE_THREADS=8
N=$(nvidia-smi -L | wc -l); W=$((N > 1 ? N - 1 : 1))
nvidia-smi -L > $OUT/gpus.txt; python3 -c "import torch, triton; print(torch.__version__, triton.__version__)" >> $OUT/gpus.txt
CUDA_VISIBLE_DEVICES=0 python3 -m kernelwright calibrate --device cuda > $OUT/calibrate.txt 2>&1
BUDGET=${BUDGET:-rounds=3,per_round=4,candidates=12,time=60,limit=120}
i=0; for f in ${PROBLEMS:-samples/suite/*.py}; do g=$((i % W)); mkdir -p /tmp/sub$g; cp $f /tmp/sub$g/; i=$((i+1)); done
for g in $(seq 0 $((W-1))); do
  [ -d /tmp/sub$g ] || continue
  (CUDA_VISIBLE_DEVICES=$g timeout ${SUITE_S:-540} python3 -m kernelwright suite /tmp/sub$g --device cuda --budget $BUDGET --json > $OUT/suite$g.jsonl 2> $OUT/suite$g.err) &
done
if [ -n "$GPU_TESTS" ] && [ $N -gt 1 ]; then
  (CUDA_VISIBLE_DEVICES=$((N-1)) timeout ${SUITE_S:-540} python3 -m pytest -q -m gpu -p no:cacheprovider $GPU_TESTS > $OUT/gputests.txt 2>&1) &
fi
wait
if [ -n "$GPU_TESTS" ] && [ $N -eq 1 ]; then
  timeout ${TESTS_S:-200} python3 -m pytest -q -m gpu -p no:cacheprovider $GPU_TESTS > $OUT/gputests.txt 2>&1
fi
ls -a /tmp/sub*/ > $OUT/split.txt
for g in $(seq 0 $((W-1))); do [ -d /tmp/sub$g/.kernelwright ] && tar czf $OUT/store$g.tgz -C /tmp/sub$g .kernelwright; done
# One line per problem in the call's output, then everything in one archive: the device returns at most 8
# files, and on a multi-GPU machine there are more than that (a suite's JSON lines were lost so once).
for f in $OUT/suite*.jsonl; do [ -s "$f" ] && python3 benchmarks/suite_lines.py "$f"; done
(cd $OUT && tar czf /tmp/gpu_suite.tgz . && find . -mindepth 1 -delete && mv /tmp/gpu_suite.tgz ./gpu_suite.tgz)
