#!/usr/bin/env python3
"""Are two runs' Train artifacts the same? For each model folder under RUN1/models and RUN2/models: whether the
prediction files are bitwise identical, else the largest absolute difference of each tensor; and the manifests'
validation error and loss. The last line is the verdict. Pure Python (no numpy or torch), so it runs anywhere.

    python3 eng/gpu-check/compare_artifacts.py artifacts-1/gpu-check artifacts-2/gpu-check
"""
import hashlib
import json
import os
import struct
import sys

TENSOR_FILES = ("test_probs.safetensors", "valid_preds.safetensors")
FORMATS = {"F32": "f", "F64": "d", "I64": "q", "I32": "i"}


def read_safetensors(path):
    """{name: list of numbers} from a safetensors file (little-endian, 8-byte header length, JSON header)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        code = FORMATS[spec["dtype"]]
        raw = data[8 + length + begin:8 + length + end]
        tensors[name] = list(struct.unpack(f"<{len(raw) // struct.calcsize(code)}{code}", raw))
    return tensors


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def compare_model(first, second):
    lines, identical, largest = [], True, 0.0
    for name in TENSOR_FILES:
        a, b = os.path.join(first, name), os.path.join(second, name)
        if sha256(a) == sha256(b):
            lines.append(f"  {name}: bitwise identical")
            continue
        identical = False
        left, right = read_safetensors(a), read_safetensors(b)
        for key in sorted(left):
            difference = max((abs(x - y) for x, y in zip(left[key], right[key])), default=0.0)
            largest = max(largest, difference)
            lines.append(f"  {name}[{key}]: largest absolute difference {difference:.3g}")
    manifests = [json.load(open(os.path.join(folder, "manifest.json"), encoding="utf-8")) for folder in (first, second)]
    for key in ("valid_error", "valid_loss", "device", "precision"):
        lines.append(f"  {key}: {manifests[0].get(key)} | {manifests[1].get(key)}")
    return identical, largest, lines


def main(run1, run2):
    models1, models2 = os.path.join(run1, "models"), os.path.join(run2, "models")
    names = sorted(set(os.listdir(models1)) & set(os.listdir(models2))) if os.path.isdir(models1) and os.path.isdir(models2) else []
    if not names:
        print(f"no model artifacts to compare in both {models1} and {models2}: nothing to judge (did both Submits finish?)")
        return 1
    different, largest = [], 0.0
    for name in names:
        identical, difference, lines = compare_model(os.path.join(models1, name), os.path.join(models2, name))
        print(name)
        print("\n".join(lines))
        if not identical:
            different.append(name)
            largest = max(largest, difference)
    if different:
        print(f"DIFFERENT: {len(different)} of {len(names)} model(s) differ between the two runs (largest absolute difference {largest:.3g})")
    else:
        print(f"IDENTICAL: all {len(names)} model(s) bitwise equal in both runs")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
