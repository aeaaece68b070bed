#!/usr/bin/env bash
# Run HERE (no GPU needed), before the one device call: makes .publish/gpu-check/bundle.tar.gz (git-ignored), the
# only thing device.sh needs beside the repository's own files:
#   app/                    the build program and the benchmarks, published self-contained for linux-x64 into one
#                           folder, without libtorch's natives, which the GPU machine's PyTorch provides
#   LibTorchSharp-0.107.0/  TorchSharp's native sources at its 0.107.0 release, for a rebuild there (never committed)
#   bundle.txt              what is inside: this repository's commit, the sources' commit, sizes
# The call carries it with the working tree; both together must stay under the device tool's 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
stage=.publish/stage
sources=.publish/LibTorchSharp-0.107.0
# The commit at which TorchSharp's BranchInfo.props says 0.107.0 and its release notes list 0.107.0; its native
# sources export the same functions as the shipped libLibTorchSharp.so.
release_commit=c20b6a1cc574d690707638a488d2583f3b8b983f
native_paths=(src/Native/LibTorchSharp src/Native/Stdafx.h src/Native/UnixSal.h LICENSE.txt)

rm -rf "$stage" .publish/gpu-check
mkdir -p "$stage" .publish/gpu-check
# Not trimmed: two programs share the folder, and the trimmer would cut the framework to one program's needs.
for project in build/Build.csproj benchmarks/Paddy.Pipeline.Benchmarks/Paddy.Pipeline.Benchmarks.csproj; do
  dotnet publish "$project" -c Release -r linux-x64 --self-contained -o "$stage/app" -v q -nologo
done
(cd "$stage/app" && rm -f libtorch*.so libc10*.so libgomp*.so* libshm.so libaoti_custom_ops.so libbackend_with_compiler.so \
  libjitbackend_test.so libnnapi_backend.so libtorchbind_test.so ./*.pdb ./*.xml)

if [ ! -f "$sources/src/Native/LibTorchSharp/THSTensor.cpp" ]; then
  rm -rf "$sources"
  mkdir -p "$sources"
  if [ -n "${TORCHSHARP_GIT:-}" ]; then
    # A local clone or mirror of TorchSharp, e.g. the one the search tool's fetch makes.
    git -C "$TORCHSHARP_GIT" archive "$release_commit" "${native_paths[@]}" | tar x -C "$sources"
    echo "$release_commit (from $TORCHSHARP_GIT)" >"$sources/COMMIT"
  else
    clone=$(mktemp -d)
    if ! git clone -q --depth 1 --branch v0.107.0 https://github.com/dotnet/TorchSharp "$clone"; then
      git -C "$clone" init -q
      git -C "$clone" fetch -q --depth 1 https://github.com/dotnet/TorchSharp "$release_commit"
      git -C "$clone" checkout -q FETCH_HEAD
    fi
    (cd "$clone" && tar c "${native_paths[@]}") | tar x -C "$sources"
    git -C "$clone" rev-parse HEAD >"$sources/COMMIT"
    rm -rf "$clone"
  fi
fi
cp -r "$sources" "$stage/LibTorchSharp-0.107.0"

{
  echo "repository commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- . ':!.publish' || echo ' (with uncommitted changes)')"
  echo "TorchSharp native sources: $(cat "$sources/COMMIT")"
  echo "app: $(du -sb "$stage/app" | cut -f1) bytes, $(find "$stage/app" -type f | wc -l) files"
  echo "made: $(date -u +%FT%TZ)"
} >"$stage/bundle.txt"
tar czf .publish/gpu-check/bundle.tar.gz -C "$stage" .
rm -rf "$stage"

# What the call sends: the tracked and untracked-not-ignored files, plus the carried bundle.
tree=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
bundle=$(du -sb .publish/gpu-check | cut -f1)
total=$((tree + bundle))
echo "working tree $((tree / 1048576)) MiB + bundle $((bundle / 1048576)) MiB = $((total / 1048576)) MiB of the 64 MiB a call may carry"
if ((total >= 64 * 1048576)); then
  echo "prepare: too large for one call; remove untracked files or slim the publish" >&2
  exit 1
fi
echo "Now, in a session lent a GPU: run(command='bash eng/gpu-check/device.sh', carry=['.publish/gpu-check'], timeout_s=540)"
