#!/usr/bin/env bash
# Run HERE (no GPU needed): publishes the build program self-contained and trimmed into .publish/gpu (git-ignored),
# without libtorch's natives, which the GPU machine's PyTorch provides (shared/notes/gpu-device.md). About 60 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .publish/gpu
# Our assemblies are not trimmed (TrimMode=partial), so the reflection they use keeps working; the analysis
# warnings are about the framework's JSON reflection, switched back on explicitly.
dotnet publish build/Build.csproj -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -p:TrimMode=partial \
  -p:JsonSerializerIsReflectionEnabledByDefault=true -p:SuppressTrimAnalysisWarnings=true -p:TreatWarningsAsErrors=false \
  -o .publish/gpu
rm -f .publish/gpu/libtorch*.so .publish/gpu/libc10*.so .publish/gpu/libgomp*.so* .publish/gpu/libshm.so \
  .publish/gpu/libaoti_custom_ops.so .publish/gpu/libbackend_with_compiler.so .publish/gpu/libjitbackend_test.so \
  .publish/gpu/libnnapi_backend.so .publish/gpu/libtorchbind_test.so
du -sh .publish/gpu
echo "Now: run(command='bash eng/gpu-check/device.sh', carry=['.publish'], timeout_s=420)"
