#!/usr/bin/env bash
# The one prepared GPU check, about 8 minutes: the CUDA tests, alongside them the (Implicit)² reference protocol on
# the GPU (the six 1L-256D models on two 512² images, 2000 steps each, all twelve runs at once), then
# bench/report.py --full on the GPU (roofline with TF32/bf16 peaks, JIIO Tables 2 and 3, scaling to 2^20
# coordinates and width 1024), then, while time is left, the other four 512² images; the report's reference table
# reads the GPU runs. Everything lands in OUT, packed into OUT/gpu-check.tar.gz (logs, JSON, markdown, the runs'
# metrics, no checkpoints) beside OUT/summary.txt.
#
#   bench/gpu_check.sh --prepare      here, with a network: download the wheels a bare GPU machine lacks into .whl/
#                                      (soundfile, PyAV, cffi, pycparser for its Python 3.12; kept out of git) and
#                                      copy the real data it reads (images512, mnist) into shared/data
#   bench/gpu_check.sh [OUT]          there: install .whl into /tmp/site, then run everything (default OUT:
#                                      bench/results/<date>-cuda-check)
#
# GPU_CHECK_DEVICE=cpu GPU_CHECK_STEPS=20 GPU_CHECK_SECONDS=300 bench/gpu_check.sh /tmp/x runs the same plumbing
# on a CPU at a toy size (the report sections are then skipped: they are sized for a GPU).
# The machine is expected to hold PyTorch with CUDA, numpy, Pillow, SciPy, scikit-image, scikit-learn, psutil,
# safetensors, tqdm and pytest (its image does); Open3D is not carried (312 MB), so no mesh test runs there.
set -u -o pipefail
cd "$(dirname "$0")/.."
WHEELS=(soundfile==0.14.0 av==18.1.0 cffi==2.1.1 pycparser==3.12)

if [ "${1:-}" = "--prepare" ]; then
  for ignored in /.whl/ /shared/; do
    grep -qx "$ignored" .git/info/exclude 2>/dev/null || echo "$ignored" >> .git/info/exclude
  done
  mkdir -p .whl shared/data
  for wheel in "${WHEELS[@]}"; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d .whl "$wheel" || exit 1
  done
  data="${DEQ_STUDIO_DATA:-../shared/data}"
  cp -r "$data/images512" "$data/mnist" "$data/omniglot" shared/data/ || exit 1
  du -sh .whl shared
  exit 0
fi

DEVICE="${GPU_CHECK_DEVICE:-cuda}" STEPS="${GPU_CHECK_STEPS:-2000}" BUDGET="${GPU_CHECK_SECONDS:-480}"
OUT="${1:-bench/results/$(date +%Y-%m-%d)-cuda-check}"
OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"
export PYTHONUNBUFFERED=1 DEQ_STUDIO_DATA="${DEQ_STUDIO_DATA:-$PWD/shared/data}" DEQ_STUDIO_LOG_DIR="$OUT"
if compgen -G ".whl/*.whl" >/dev/null && [ "$DEVICE" = cuda ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}" || exit 1
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python3}"
{ nvidia-smi -L 2>&1; $PY -c "import torch; print('torch', torch.__version__, torch.cuda.is_available() and
torch.cuda.get_device_name(0))"; } | tee "$OUT/summary.txt"
left() { echo $(( BUDGET - SECONDS )); }  # seconds of the budget left
say() { echo "[$SECONDS s] $*" | tee -a "$OUT/summary.txt"; }

reference() {  # minutes, images...: the six models on each image, one process (one CPU thread) per run, all at once
  local minutes=$1 pids=(); shift
  for image in "$@"; do
    for model in siren-inj isiren fourier-mfn fourier-imfn gabor-mfn gabor-imfn; do
      OMP_NUM_THREADS=1 $PY bench/reference_protocol.py --device "$DEVICE" --steps "$STEPS" --images "$image" \
        --models "$model" --runs "$OUT/reference" --budget-min "$minutes" \
        > "$OUT/ref-$image-$model.log" 2>&1 &
      pids+=($!)
    done
  done
  wait "${pids[@]}"  # these runs only: the CUDA tests beside them are waited for on their own
}

say "start (budget ${BUDGET} s, device $DEVICE)"
if [ "$DEVICE" = cuda ]; then
  timeout 200 $PY -m pytest -q -p no:cacheprovider -m cuda tests/engine/test_cuda.py \
    tests/engine/solvers/test_solvers.py > "$OUT/cuda-tests.log" 2>&1 &
  tests=$!
fi
reference 3.5 kodim01 kodim02
say "reference, two images: $(grep -l '"state": "done"' "$OUT"/ref-*.log 2>/dev/null | wc -l) of 12 runs report done"
if [ "$DEVICE" = cuda ]; then
  wait "$tests"; say "cuda tests: exit $? ($(tail -n 1 "$OUT/cuda-tests.log"))"
  timeout 150 $PY bench/plain_inr.py --device cuda > "$OUT/plain-inr.json" 2> "$OUT/plain-inr.log"
  say "plain-script yardstick: exit $? ($(grep -c model "$OUT/plain-inr.log") rows; ours ÷ plain in plain-inr.json)"
  minutes=$(awk "BEGIN {print ($(left) - 150) / 60}")
  timeout $(( $(left) - 120 )) $PY bench/report.py --full --device cuda --budget-min "$minutes" --results "$OUT" \
    --reference-runs "$OUT/reference" --only roofline jio_vs_pgd jiio_vs_adam scaling > "$OUT/report.log" 2>&1
  say "report: exit $? ($(grep -c '^== ' "$OUT/report.log") sections started)"
fi
if [ "$(left)" -gt 100 ]; then  # the other four images while time is left: a run cut off is only partial
  reference "$(awk "BEGIN {print ($(left) - 40) / 60}")" kodim04 kodim05 kodim07 kodim12
  say "reference, six images: $(grep -l '"state": "done"' "$OUT"/ref-*.log | wc -l) runs done"
fi
$PY bench/report.py --full --device "$DEVICE" --results "$OUT" --reference-runs "$OUT/reference" --only reference \
  >> "$OUT/report.log" 2>&1
$PY bench/reference_protocol.py --report-only --steps "$STEPS" --runs "$OUT/reference" > "$OUT/reference.json" \
  2> "$OUT/reference.md"
say "done"
tar -czf "$OUT.tar.gz" -C "$OUT" --exclude='*.pt' --exclude='*.npy' --exclude=reconstruction.png \
  --exclude='*.tar.gz' . && mv "$OUT.tar.gz" "$OUT/gpu-check.tar.gz"
ls -la "$OUT/gpu-check.tar.gz"
cat "$OUT/reference.md"
