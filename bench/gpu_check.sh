#!/usr/bin/env bash
# The one prepared GPU check: the CUDA tests, then bench/report.py --full on the GPU (roofline with TF32/bf16 as
# the device offers, scaling to 2^20 coordinates and width 1024, JIIO Tables 2 and 3, the reference-protocol table
# of all six 1L-256D models on the 512² images) within about 8 minutes, writing JSON, markdown and logs into OUT.
#
#   bench/gpu_check.sh --prepare      here, with a network: download the wheels a bare GPU machine lacks into .whl/
#                                      (soundfile, PyAV, cffi, pycparser for its Python 3.12; kept out of git)
#   bench/gpu_check.sh [OUT]          there: install .whl into /tmp/site, then run everything (default OUT:
#                                      bench/results/<date>-cuda)
#
# The machine is expected to hold PyTorch with CUDA, numpy, Pillow, SciPy, scikit-image, scikit-learn, psutil,
# safetensors, tqdm and pytest (its image does); Open3D is not carried (312 MB), so mesh tests skip there. The real
# data travels in shared/data of the checkout when DEQ_STUDIO_DATA is not set (the working tree that travels is
# limited to 64 MiB with the wheels): copy ../shared/data/images512 and ../shared/data/mnist there
# before the call. Not yet run on a GPU: no session so far was lent one.
set -u -o pipefail
cd "$(dirname "$0")/.."
WHEELS=(soundfile==0.14.0 av==18.1.0 cffi==2.1.1 pycparser==3.12)

if [ "${1:-}" = "--prepare" ]; then
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  mkdir -p .whl
  for wheel in "${WHEELS[@]}"; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d .whl "$wheel" || exit 1
  done
  du -sh .whl
  exit 0
fi

OUT="${1:-bench/results/$(date +%Y-%m-%d)-cuda}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 DEQ_STUDIO_DATA="${DEQ_STUDIO_DATA:-$PWD/shared/data}" DEQ_STUDIO_LOG_DIR="$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}" || exit 1
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi -L | tee "$OUT/summary.txt"
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))" | tee -a "$OUT/summary.txt"

step() {  # name, seconds, command...: run with a time limit, log to OUT/name.log, say how it ended
  local name=$1 limit=$2; shift 2
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "$name: exit $? ($(tail -n 1 "$OUT/$name.log"))" | tee -a "$OUT/summary.txt"
}

step cuda-tests 120 python3 -m pytest -q -p no:cacheprovider -m cuda tests/engine
# the report at the papers' size, the fits last: whatever the budget leaves unfinished is checkpointed
step report 420 python3 bench/report.py --full --device cuda --budget-min 5.5 --results "$OUT" \
  --only roofline scaling jio_vs_pgd jiio_vs_adam generalization
cat "$OUT/summary.txt"
