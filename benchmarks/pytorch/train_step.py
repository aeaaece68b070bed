#!/usr/bin/env python3
"""The PyTorch + timm side of the GPU training-step benchmark (docs/gpu.md): the seed's four models at the seed's
settings (micro-batches of 16, accumulation to 64 samples, fp16 with GradScaler, random weights, synthetic data
already on the device), each in its own process, measured as the .NET side measures (`train-step` in
benchmarks/Paddy.Pipeline.Benchmarks): warm-up micro-batches left out, CUDA synchronised around the timed ones,
peak device memory of the process from NVML sampled every 50 ms (also torch's own max_memory_reserved/allocated).
Writes one JSON line per model (--json) in the schema the .NET side reads with --compare.

    python3 benchmarks/pytorch/train_step.py --models seed --json pytorch.jsonl
    python3 benchmarks/pytorch/train_step.py --device cpu --models tiny      # small sizes, to see it run
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

# name: (timm name, height, width, timm keyword arguments); names are the seed's, as the .NET catalog resolves them.
SEED_MODELS = {
    "convnext_large_in22k": ("convnext_large.fb_in22k", 320, 224, {}),
    "vit_large_patch16_224": ("vit_large_patch16_224.augreg_in21k_ft_in1k", 224, 224, {}),
    "swinv2_large_window12_192_22k": ("swinv2_large_window12_192.ms_in22k", 192, 192, {}),
    "swin_large_patch4_window7_224": ("swin_large_patch4_window7_224.ms_in22k_ft_in1k", 224, 224, {}),
}
TINY_MODELS = {
    "convnext_atto": ("convnext_atto", 64, 48, {}),
    "vit_tiny_patch16_224": ("vit_tiny_patch16_224", 64, 64, {"img_size": 64}),
    "swin_tiny_window4": ("swin_tiny_patch4_window7_224", 64, 64, {"img_size": 64, "window_size": 4}),
    "swinv2_tiny_window4": ("swinv2_tiny_window8_256", 64, 64, {"img_size": 64, "window_size": 4}),
}
CLASSES = 10  # Paddy Doctor's


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default=None, help="default: cuda when available")
    parser.add_argument("--models", default=None, help="seed, tiny or a comma-separated list (default: seed on cuda, tiny on cpu)")
    parser.add_argument("--micro-batch", type=int, default=None, help="default 16 (seed) or 4 (tiny)")
    parser.add_argument("--accumulate", type=int, default=None, help="samples per optimizer step; default 64 (seed) or 8 (tiny)")
    parser.add_argument("--warmup", type=int, default=None, help="micro-batches left out of the timing; default 8 (seed) or 2 (tiny)")
    parser.add_argument("--timed", type=int, default=None, help="timed micro-batches; default 40 (seed) or 4 (tiny)")
    parser.add_argument("--precision", choices=["fp16", "bf16", "fp32"], default=None, help="default fp16 on cuda, bf16 on cpu")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="let cuDNN time its algorithms (fastai's setup_cuda does; TorchSharp cannot), off by default as in PyTorch")
    parser.add_argument("--model-seconds", type=float, default=120, help="each model's process is stopped after this")
    parser.add_argument("--json", help="append one JSON line per model here")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def resolve(args):
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    tiny = args.models == "tiny" or (args.models is None and args.device == "cpu")
    args.models = ",".join(TINY_MODELS if tiny else SEED_MODELS) if args.models in (None, "seed", "tiny") else args.models
    args.micro_batch = args.micro_batch or (4 if tiny else 16)
    args.accumulate = args.accumulate or (8 if tiny else 64)
    args.warmup = args.warmup if args.warmup is not None else (2 if tiny else 8)
    args.timed = args.timed or (4 if tiny else 40)
    args.precision = args.precision or ("fp16" if args.device == "cuda" else "bf16")
    return args


def main(argv):
    args = parse(argv)
    if args.one:
        print("RESULT " + json.dumps(measure(resolve(args))), flush=True)
        return 0
    args = resolve(args)
    failed = 0
    for name in args.models.split(","):
        record = run_child(args, name)
        failed += "error" in record
        print(summary_line(record), flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as sink:
                sink.write(json.dumps(record) + "\n")
    return 1 if failed else 0


def run_child(args, name):
    """One process per model, so that NVML's figure is that model's alone, as on the .NET side."""
    command = [sys.executable, os.path.abspath(__file__), "--one", name, "--device", args.device,
               "--micro-batch", str(args.micro_batch), "--accumulate", str(args.accumulate), "--warmup", str(args.warmup),
               "--timed", str(args.timed), "--precision", args.precision]
    if args.cudnn_benchmark:
        command.append("--cudnn-benchmark")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.model_seconds)
    except subprocess.TimeoutExpired as timeout:
        return failure(args, name, f"stopped after {args.model_seconds:.0f} s", timeout.stderr)
    results = [line[len("RESULT "):] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        return failure(args, name, f"exit code {done.returncode}", done.stderr)
    return json.loads(results[-1])


def failure(args, name, why, stderr):
    tail = (stderr or "")
    tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
    return {"side": "pytorch", "model": name, "device": args.device, "error": why, "stderr_tail": tail[-2000:]}


def summary_line(record):
    if "error" in record:
        return f"{record['model']}: FAILED ({record['error']})\n{record.get('stderr_tail', '')}"
    memory = record["peak_process_memory_bytes"]
    memory = f"{memory / 2**20:.0f} MiB" if memory else "not measured"
    return (f"{record['model']} at {record['height']}x{record['width']}: {record['images_per_second']:.1f} images/s, "
            f"peak process memory {memory}")


def build(name, device):
    import timm
    from fastai_parts import FastaiClassifier

    timm_name, height, width, kwargs = {**SEED_MODELS, **TINY_MODELS}[name]
    body = timm.create_model(timm_name, pretrained=False, num_classes=0, **kwargs)
    return FastaiClassifier(body, CLASSES, pool=timm_name.startswith("convnext")).to(device), height, width


def measure(args):
    import torch
    from fastai_parts import FastaiAdam, FastaiStep

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    meter = PeakMemory.start(device)
    torch.manual_seed(0)
    model, height, width = build(args.one, device)
    model.train()
    optimizer = FastaiAdam(model.parameter_groups())
    step = FastaiStep(model, optimizer, args.accumulate, args.precision, device.type)
    images = torch.randn(args.micro_batch, 3, height, width, device=device)
    targets = torch.randint(0, CLASSES, (args.micro_batch,), device=device)

    steps = 0
    for _ in range(args.warmup):
        step(images, targets)
    synchronize(device)
    started = time.perf_counter()
    for _ in range(args.timed):
        steps += step(images, targets)
    synchronize(device)
    seconds = time.perf_counter() - started
    meter.stop()
    return {
        "side": "pytorch",
        "model": args.one,
        "height": height,
        "width": width,
        "micro_batch": args.micro_batch,
        "accumulation_samples": args.accumulate,
        "precision": args.precision,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "warmup_micro_batches": args.warmup,
        "timed_micro_batches": args.timed,
        "optimizer_steps_timed": steps,
        "seconds": seconds,
        "images_per_second": args.timed * args.micro_batch / seconds,
        "peak_process_memory_bytes": meter.peak,
        "peak_memory_source": meter.source,
        "peak_reserved_bytes": torch.cuda.max_memory_reserved(device) if device.type == "cuda" else None,
        "peak_allocated_bytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
        "loss_scale": step.loss_scale(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "framework": f"torch {torch.__version__}, cudnn.benchmark={torch.backends.cudnn.benchmark}",
    }


def synchronize(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


class PeakMemory:
    """The process's device memory as the driver reports it (NVML through pynvml, every 50 ms), as the .NET side's
    NvmlPeakMemory reads it: our pid's entry, or the device's used memory above the start when the pid is hidden.
    On the CPU, the kernel's high-water mark of resident memory (VmHWM)."""

    def __init__(self, source, sample):
        self.source = source
        self.sample = sample
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    @staticmethod
    def start(device):
        if device.type == "cpu":
            meter = PeakMemory("process peak resident memory (VmHWM)", vm_hwm)
        else:
            meter = PeakMemory.nvml(device.index or 0)
        meter.thread.start()
        return meter

    @staticmethod
    def nvml(index):
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except Exception as error:  # no pynvml, or no driver library: say so rather than report 0
            return PeakMemory(f"GPU memory cannot be measured: {error}", lambda: None)
        pid, baseline = os.getpid(), pynvml.nvmlDeviceGetMemoryInfo(handle).used

        def sample():
            for process in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                if process.pid == pid and process.usedGpuMemory is not None:
                    return process.usedGpuMemory
            return max(0, pynvml.nvmlDeviceGetMemoryInfo(handle).used - baseline)

        return PeakMemory("device memory of this process (NVML, sampled every 50 ms)", sample)

    def run(self):
        while not self.done.is_set():
            value = self.sample()
            if value is not None:
                self.peak = max(self.peak, value)
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.thread.join()
        value = self.sample()
        if value is not None:
            self.peak = max(self.peak, value)
        self.peak = self.peak or None


def vm_hwm():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1:]))
