#!/usr/bin/env python3
"""Builds the demo dataset in Kaggle's Paddy Doctor layout from real Fashion-MNIST.

Source: the Debian package dataset-fashion-mnist (IDX files under /usr/share/datasets/fashion-mnist).
Output (beside this script): train.csv (image_id,label), train_images/<label>/<id>.png,
test_images/<id>.png, sample_submission.csv (image_id,label) and solution.csv (the true test labels,
which Kaggle would keep hidden; the demo uses it to print the submission's accuracy).
Deterministic: the first PER_CLASS training images of each class in file order, and the first TEST_COUNT
test images. Python standard library only.
"""
import csv
import gzip
import os
import shutil
import struct
import sys
import zlib

SOURCE = "/usr/share/datasets/fashion-mnist"
PER_CLASS = 400
TEST_COUNT = 300
LABELS = ["tshirt_top", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def read_idx(name):
    with gzip.open(os.path.join(SOURCE, name), "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        size = rows * cols
        return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)], (rows, cols)
    if magic == 2049:
        return list(data[8:8 + count]), None
    raise ValueError(f"{name}: unknown IDX magic {magic}")


def write_png(path, pixels, rows, cols):
    raw = b"".join(b"\x00" + pixels[r * cols:(r + 1) * cols] for r in range(rows))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0)  # 8-bit grayscale
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = os.path.dirname(os.path.abspath(__file__))
    if not os.path.isdir(SOURCE):
        sys.exit(f"{SOURCE} not found: apt-get install dataset-fashion-mnist")
    for folder in ("train_images", "test_images"):
        shutil.rmtree(os.path.join(out, folder), ignore_errors=True)

    images, (rows, cols) = read_idx("train-images-idx3-ubyte.gz")
    labels, _ = read_idx("train-labels-idx1-ubyte.gz")
    taken = {label: 0 for label in range(len(LABELS))}
    train_rows = []
    for index, (pixels, label) in enumerate(zip(images, labels)):
        if taken[label] == PER_CLASS:
            continue
        taken[label] += 1
        image_id = f"{100000 + index}.png"
        folder = os.path.join(out, "train_images", LABELS[label])
        os.makedirs(folder, exist_ok=True)
        write_png(os.path.join(folder, image_id), pixels, rows, cols)
        train_rows.append((image_id, LABELS[label]))
        if all(n == PER_CLASS for n in taken.values()):
            break

    test_images, _ = read_idx("t10k-images-idx3-ubyte.gz")
    test_labels, _ = read_idx("t10k-labels-idx1-ubyte.gz")
    os.makedirs(os.path.join(out, "test_images"), exist_ok=True)
    test_rows = []
    for index in range(TEST_COUNT):
        image_id = f"{200001 + index}.png"
        write_png(os.path.join(out, "test_images", image_id), test_images[index], rows, cols)
        test_rows.append((image_id, LABELS[test_labels[index]]))

    def write_csv(name, header, rows_out):
        with open(os.path.join(out, name), "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows_out)

    write_csv("train.csv", ["image_id", "label"], train_rows)
    write_csv("sample_submission.csv", ["image_id", "label"], [(i, "") for i, _ in test_rows])
    write_csv("solution.csv", ["image_id", "label"], test_rows)
    print(f"{len(train_rows)} training images, {len(test_rows)} test images written to {out}")


if __name__ == "__main__":
    main()
