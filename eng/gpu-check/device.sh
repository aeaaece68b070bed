#!/usr/bin/env bash
# The whole GPU check as ONE call of the device tool, on a machine with PyTorch (CUDA), timm, g++ and no .NET, after
# `bash eng/gpu-check/prepare.sh` here:
#   run(command='bash eng/gpu-check/device.sh', carry=['.publish/gpu-check'], timeout_s=540)
# It never stops at a failure: each stage's outcome is written down and the next stage runs. Everything it printed
# and wrote comes back as $OUT/gpu-check-results.tar.gz (packed again after every stage, so a run cut short still
# brings back what it did) and $OUT/summary.txt. docs/gpu.md says what to read in them.
#
# Time: BUDGET seconds in all (default 510, inside the call's 540, 9 minutes); each stage gets its cap or what is left, less 15 s
# kept for packing. Caps: unpack + facts + undefined symbols ~15 | native rebuild (only when libtorch symbols are
# missing) 200, on the cores from 4 up, while the PyTorch side of the benchmark runs on cores 0-3 | CUDA smoke 60
# (twice when a rebuilt library fails and the shipped one is tried) | PyTorch side 60 a model, .NET side 60 a model,
# both on cores 0-3 | Submit of pipeline.yaml 100, twice, then the artifacts compared | PyTorch on ConvNeXt with
# cudnn.benchmark, only if 60 are left | ProbeMemory only if 90 are left.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
start=$SECONDS
budget=${BUDGET:-510}
out=${OUT:-/tmp/gpu-check-out}
work=${WORK:-/tmp/gpu-check}
results=$work/results
device=${DEVICE:-cuda}
models=${BENCH_MODELS:-seed}
rm -rf "$work"
mkdir -p "$results" "$out"
exec > >(tee -a "$results/device-output.txt") 2>&1

within() { local cap=$1 rest=$((budget - (SECONDS - start) - 15)); ((rest < cap)) && cap=$rest; ((cap < 1)) && cap=1; echo "$cap"; }
note() { echo "[$((SECONDS - start))s] $*" | tee -a "$results/timeline.txt"; }
outcome() { echo "$*" >>"$results/outcome.txt"; note "$*"; }
pack() { tar czf "$out/gpu-check-results.tar.gz" -C "$work" results 2>/dev/null; }
trap pack EXIT

note "unpacking the bundle"
tar xzf .publish/gpu-check/bundle.tar.gz -C "$work" || { outcome "no bundle: run eng/gpu-check/prepare.sh first"; exit 1; }
app=$work/app
chmod +x "$app/Paddy.Build" "$app/Paddy.Pipeline.Benchmarks"
cp "$work/bundle.txt" "$results/"

# Half of the cores at least for g++ while a benchmark runs, and the benchmark's host threads on cores of their own.
cores=$(nproc)
host=() compile=()
if command -v taskset >/dev/null && ((cores >= 8)); then host=(taskset -c 0-3) compile=(taskset -c "4-$((cores - 1))"); fi

{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1
  python3 -c "import sys,torch;print('python', sys.version.split()[0], '| torch', torch.__version__, '| cuda', torch.version.cuda, '| cudnn', torch.backends.cudnn.version(), '| C++11 ABI', int(torch._C._GLIBCXX_USE_CXX11_ABI), '| GPU seen by torch', torch.cuda.is_available())" 2>&1
  python3 -c "import timm;print('timm', timm.__version__)" 2>&1 | tail -1
  g++ --version | head -1
  echo "$cores cores, kernel $(uname -r)"
} >"$results/facts.txt"
cat "$results/facts.txt"

# PyTorch's own libraries and the CUDA libraries its wheels bring (nvidia/*/lib), which `import torch` preloads
# and a .NET process does not.
site_packages=$(python3 -c "import torch,os;print(os.path.dirname(os.path.dirname(torch.__file__)))")
torch_lib=$site_packages/torch/lib
cuda_libs=$(find "$site_packages/nvidia" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd: -)
export LD_LIBRARY_PATH="$torch_lib${cuda_libs:+:$cuda_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "$LD_LIBRARY_PATH" | tr ':' '\n' >"$results/library-path.txt"
ldd "$torch_lib/libtorch_cuda.so" >"$results/ldd-libtorch_cuda.txt" 2>&1
grep 'not found' "$results/ldd-libtorch_cuda.txt" && outcome "libtorch_cuda.so has libraries not found (CUDA would be unavailable)"

# Every symbol the library needs and this libtorch lacks, demangled; a library or symbol version not found counts
# too, except a weak one (the GLIBCXX_3.4.32 marker that eng/TorchSharpGlibcxxFix.targets makes weak).
undefined() {
  ldd -r "$1" >"$results/$2-ldd.txt" 2>&1
  grep -o 'undefined symbol: [^[:space:]]*' "$results/$2-ldd.txt" | cut -d' ' -f3 | sort -u | c++filt >"$results/$2-undefined.txt"
  grep 'not found' "$results/$2-ldd.txt" | grep -v 'weak version' >>"$results/$2-undefined.txt"
  wc -l <"$results/$2-undefined.txt"
}
shipped_missing=$(undefined "$app/libLibTorchSharp.so" abi-shipped)
outcome "shipped libLibTorchSharp.so (built against libtorch 2.10): $shipped_missing undefined symbol(s) against this libtorch (abi-shipped-undefined.txt)"
cp "$app/libLibTorchSharp.so" "$work/libLibTorchSharp.shipped.so"
pack

pytorch_side() {
  note "PyTorch side of the benchmark ($1)"
  PYTHONUNBUFFERED=1 timeout "$(within 270)" "${host[@]}" python3 benchmarks/pytorch/train_step.py --device "$device" --models "$models" \
    --model-seconds 60 --json "$results/bench-pytorch.jsonl" >"$results/bench-pytorch.txt" 2>&1
  note "PyTorch side done (exit $?)"
}

smoke() {
  timeout "$(within 60)" "${host[@]}" "$app/Paddy.Pipeline.Benchmarks" train-step --device "$device" --models convnext_atto \
    --warmup 1 --timed 4 --model-seconds 50 >"$results/smoke-$1.txt" 2>&1 && grep -q 'images/s' "$results/smoke-$1.txt"
}

pytorch_done=no
if ((shipped_missing > 0)) || [ -n "${FORCE_REBUILD:-}" ]; then
  note "rebuilding TorchSharp's native library against this libtorch (at most $(within 200) s)"
  COMPILE_SECONDS=$(within 200) JOBS=$((cores > 8 ? cores - 4 : cores)) "${compile[@]}" \
    bash eng/gpu-check/build-native.sh "${NATIVE_SOURCES:-$work/LibTorchSharp-0.107.0}" "$work/native" >"$results/native-build.txt" 2>&1 &
  build=$!
  if [ ${#host[@]} -gt 0 ]; then pytorch_side "while g++ runs on the other cores"; pytorch_done=yes; fi
  wait $build
  built=$?
  cp -r "$work/native/log" "$results/native-log" 2>/dev/null
  cp "$work/native/summary.txt" "$results/native-summary.txt" 2>/dev/null
  tail -5 "$results/native-build.txt"
  if ((built == 0)); then
    cp "$work/native/libLibTorchSharp.so" "$results/"
    outcome "rebuilt libLibTorchSharp.so: $(undefined "$work/native/libLibTorchSharp.so" abi-rebuilt) undefined symbol(s) (abi-rebuilt-undefined.txt)"
    cp "$work/native/libLibTorchSharp.so" "$app/libLibTorchSharp.so"
  else
    outcome "native rebuild failed (exit $built; native-build.txt, native-log/)"
  fi
  pack
fi

library=shipped
[ -f "$results/libLibTorchSharp.so" ] && library=rebuilt
note "CUDA smoke of the program with the $library library"
if ! smoke "$library"; then
  outcome "smoke with the $library library FAILED (smoke-$library.txt)"
  if [ $library = rebuilt ]; then
    cp "$work/libLibTorchSharp.shipped.so" "$app/libLibTorchSharp.so"
    library=shipped
    smoke shipped || { outcome "smoke with the shipped library FAILED too (smoke-shipped.txt)"; library=none; }
  else
    library=none
  fi
fi
outcome "library in use: $library"
pack

[ $pytorch_done = no ] && pytorch_side "alone"
pack

note ".NET side of the benchmark"
timeout "$(within 270)" "${host[@]}" "$app/Paddy.Pipeline.Benchmarks" train-step --device "$device" --models "$models" --model-seconds 60 \
  --json "$results/bench-torchsharp.jsonl" >"$results/bench-torchsharp.txt" 2>&1
note ".NET side done (exit $?)"
[ -s "$results/bench-torchsharp.jsonl" ] && [ -s "$results/bench-pytorch.jsonl" ] &&
  "$app/Paddy.Pipeline.Benchmarks" train-step --device "$device" --models "$models" --results "$results/bench-torchsharp.jsonl" \
    --compare "$results/bench-pytorch.jsonl" >"$results/bench-comparison.txt" 2>&1
pack

for run in 1 2; do
  note "Submit $run of eng/gpu-check/pipeline.yaml"
  timeout "$(within 100)" "$app/Paddy.Build" --target=Submit --pipeline=eng/gpu-check/pipeline.yaml --device="$device" \
    --artifacts="$work/artifacts-$run" >"$results/submit-$run.txt" 2>&1
  outcome "Submit $run: exit $?"
  for manifest in "$work/artifacts-$run"/gpu-check/models/*/manifest.json; do
    [ -f "$manifest" ] && cp "$manifest" "$results/manifest-$run-$(basename "$(dirname "$manifest")").json"
  done
  pack
done
python3 eng/gpu-check/compare_artifacts.py "$work/artifacts-1/gpu-check" "$work/artifacts-2/gpu-check" >"$results/determinism.txt" 2>&1
outcome "determinism: $(tail -1 "$results/determinism.txt")"

if (($(within 60) >= 60)) && [ "$models" = seed ]; then
  note "PyTorch side again for ConvNeXt with cudnn.benchmark on (what TorchSharp cannot ask for)"
  PYTHONUNBUFFERED=1 timeout "$(within 60)" "${host[@]}" python3 benchmarks/pytorch/train_step.py --device "$device" \
    --models convnext_large_in22k --cudnn-benchmark --model-seconds 55 --json "$results/bench-pytorch-cudnn-benchmark.jsonl" \
    >"$results/bench-pytorch-cudnn-benchmark.txt" 2>&1
  pack
fi

if (($(within 90) >= 90)); then
  note "ProbeMemory"
  timeout "$(within 80)" "$app/Paddy.Build" --target=ProbeMemory --pipeline=eng/gpu-check/pipeline.yaml --device="$device" \
    --artifacts="$work/artifacts-1" >"$results/probe-memory.txt" 2>&1
  outcome "ProbeMemory: exit $?"
fi

{
  echo "== facts"; cat "$results/facts.txt"
  echo "== outcome"; cat "$results/outcome.txt"
  echo "== benchmark"; cat "$results/bench-comparison.txt" 2>/dev/null || { cat "$results/bench-pytorch.txt" "$results/bench-torchsharp.txt" 2>/dev/null; }
  echo "== PyTorch with cudnn.benchmark"; cat "$results/bench-pytorch-cudnn-benchmark.txt" 2>/dev/null
  echo "== determinism"; cat "$results/determinism.txt"
  echo "== timeline"; cat "$results/timeline.txt"
} >"$results/summary.txt"
cp "$results/summary.txt" "$out/summary.txt"
note "done in $((SECONDS - start)) s"
cat "$results/summary.txt"
