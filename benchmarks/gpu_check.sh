#!/usr/bin/env bash
# The whole GPU check in one run, for a machine with an NVIDIA GPU, CuPy, PyTorch (CUDA),
# NumPy, pytest and hypothesis, and no network (nothing is installed).
#
#     PYTHONPATH=. OUT=/some/dir bash benchmarks/gpu_check.sh     # from the repository root
#
# Steps, each under its own timeout and all within TOTAL_S seconds (default 530, under 9
# minutes): the machine and versions; a smoke test on the GPU; the gpu-marked tests; the GPU
# benchmarks (minidl on CuPy against PyTorch CUDA, a markdown table with the GPU's name); the
# lessons in quick mode on CuPy; the whole test suite with MINIDL_BACKEND=cupy (last, with
# the time that is left, in $SHARDS parallel pytest processes, default 4). Logs, the benchmark table and summary.md go to $OUT. The exit
# status is 0 when every step passed.
set -u
OUT=${OUT:-gpu_check_out}
TOTAL_S=${TOTAL_S:-530}
PY=${PYTHON:-python3}
export PYTHONPATH=${PYTHONPATH:-.}
export PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg
mkdir -p "$OUT"
START=$(date +%s)
FAILED=0
echo "| step | exit | seconds | log |" > "$OUT/summary.md"
echo "|---|---:|---:|---|" >> "$OUT/summary.md"

# step NAME LIMIT_S COMMAND...: run COMMAND under min(LIMIT_S, time left), log to $OUT/NAME.log
step() {
    local name=$1 limit=$2
    shift 2
    local left=$((TOTAL_S - ($(date +%s) - START)))
    if [ "$left" -lt 10 ]; then
        echo "| $name | not run (no time left) | 0 | - |" >> "$OUT/summary.md"
        FAILED=1
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "== $name (limit ${limit}s)"
    local t0=$(date +%s)
    timeout --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    local dt=$(($(date +%s) - t0))
    [ "$rc" -eq 124 ] && rc="124 (timed out)"
    [ "$rc" != 0 ] && FAILED=1
    echo "| $name | $rc | $dt | $name.log |" >> "$OUT/summary.md"
    tail -n 3 "$OUT/$name.log"
}

step 01_machine 20 bash -c "nvidia-smi; $PY -c '
import importlib.metadata as m, sys
print(sys.version)
for name in m.packages_distributions().get(\"cupy\", []) + [\"numpy\", \"torch\", \"pytest\", \"hypothesis\",
                                                           \"matplotlib\", \"tqdm\", \"scikit-learn\", \"jupytext\", \"nbclient\"]:
    try:
        print(name, m.version(name))
    except m.PackageNotFoundError:
        print(name, \"MISSING\")
'"
step 02_smoke 60 env MINIDL_BACKEND=cupy $PY -c "
import minidl as md, minidl.nn as nn, minidl.nn.functional as F
assert md.get_backend() == 'cupy', md.get_backend()
x = md.randn(8, 4, requires_grad=True)
loss = F.cross_entropy(nn.Linear(4, 3)(x.exp().sigmoid()), md.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
loss.backward()
print('ok on', x.device, md.backend.device_name(), 'loss', loss.item())
"
step 03_gpu_tests 60 env MINIDL_BACKEND=cupy $PY -m pytest -q -p no:cacheprovider -m gpu -rs tests/
step 04_benchmarks 100 $PY -m benchmarks.gpu --out "$OUT"
if $PY -c "import matplotlib" 2>/dev/null; then
step 05_lessons 100 env MINIDL_BACKEND=cupy $PY -m lessons --quick --no-progress --out "$OUT/lessons"
else
    echo "| 05_lessons | not run (matplotlib is not installed here; the lessons draw figures) | 0 | - |" \
        >> "$OUT/summary.md"
    FAILED=1
fi
# the whole suite on CuPy, in $SHARDS pytest processes side by side (test files dealt out in
# turn; one GPU serves them all): logs 06_suite_cupy_N.log, JUnit XML suite_cupy_N.xml
run_shards() {
    local files=() i pids=() rc=0
    mapfile -t files < <(find tests -name 'test_*.py' | sort)
    for ((i = 0; i < SHARDS; i++)); do
        local mine=() j
        for ((j = i; j < ${#files[@]}; j += SHARDS)); do mine+=("${files[j]}"); done
        MINIDL_BACKEND=cupy $PY -m pytest -q -p no:cacheprovider -rfEs --durations=10 \
            --junitxml="$OUT/suite_cupy_$i.xml" "${mine[@]}" > "$OUT/06_suite_cupy_$i.log" 2>&1 &
        pids+=($!)
    done
    for ((i = 0; i < SHARDS; i++)); do
        wait "${pids[i]}" || rc=1
        echo "shard $i: $(tail -n 1 "$OUT/06_suite_cupy_$i.log")"
    done
    return $rc
}
export -f run_shards
export PY OUT SHARDS=${SHARDS:-4}
step 06_suite_cupy 600 bash -c run_shards

echo "total $(($(date +%s) - START)) s" >> "$OUT/summary.md"
cat "$OUT/summary.md"
[ -f "$OUT/gpu.md" ] && cat "$OUT/gpu.md"
exit $FAILED
