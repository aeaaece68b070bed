#!/usr/bin/env bash
# Run ON THE GPU MACHINE through the device tool, after prepare.sh: the one-second ABI check, then the CUDA path of
# the real program (device choice, fp16 + loss scaler, bf16, accumulation, Swin buffers on CUDA, TTA, NVML peak
# memory, the memory probe), everything it prints saved under $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/gpu-check-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
torch_lib=$(python3 -c "import torch,os;print(os.path.join(os.path.dirname(torch.__file__),'lib'))")
python3 -c "import torch;print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"
python3 -c "import torch,ctypes,os; ctypes.CDLL('.publish/gpu/libLibTorchSharp.so', mode=os.RTLD_NOW|os.RTLD_GLOBAL); print('all symbols resolve')" \
  2>&1 | tee "$out/abi.txt" || { echo "ABI check failed: TorchSharp 0.107 cannot run against this libtorch"; exit 1; }
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
app=.publish/gpu/Paddy.Build
timeout 120 "$app" --target=ProbeMemory --pipeline=eng/gpu-check/pipeline.yaml --device=cuda 2>&1 | tee "$out/probe.txt"
timeout 240 "$app" --target=Submit --pipeline=eng/gpu-check/pipeline.yaml --device=cuda 2>&1 | tee "$out/submit.txt"
for f in artifacts/gpu-check/models/*/manifest.json; do cp "$f" "$out/$(basename "$(dirname "$f")").json"; done
