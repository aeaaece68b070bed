#!/usr/bin/env bash
# Compiles TorchSharp 0.107.0's native library, libLibTorchSharp.so, against the libtorch of the machine it runs on
# (Plan B of device.sh, for when the shipped library, built against libtorch 2.10, does not resolve against the
# machine's PyTorch). Plain g++ in parallel, no CMake (its CUDA detection is slow and needs nothing here).
#
#   build-native.sh SOURCES OUT
#
# SOURCES is a TorchSharp checkout or export holding src/Native/LibTorchSharp, src/Native/Stdafx.h and UnixSal.h
# (prepare.sh fetches them; they are never committed). Where libtorch is: TORCH_INCLUDE and TORCH_LIB, by default
# those of python3's torch. COMPILE_SECONDS bounds the compile (default 200), JOBS its parallelism (default nproc),
# CXX11_ABI the libstdc++ ABI (default: what torch reports).
# Writes OUT/libLibTorchSharp.so, OUT/log/<file>.log per source, OUT/summary.txt; exits 0 only when the library is
# linked and every source but the optional ones (TorchScript THSJIT, torch.export THSExport) compiled.
set -uo pipefail
sources=${1:?usage: build-native.sh SOURCES OUT}
out=${2:?usage: build-native.sh SOURCES OUT}
native=$sources/src/Native/LibTorchSharp
[ -f "$native/THSTensor.cpp" ] || { echo "build-native: no TorchSharp sources in $native (run eng/gpu-check/prepare.sh)"; exit 2; }

if [ -z "${TORCH_INCLUDE:-}" ] || [ -z "${TORCH_LIB:-}" ] || [ -z "${CXX11_ABI:-}" ]; then
  read -r torch_dir torch_abi < <(python3 -c "import torch,os;print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI))") \
    || { echo "build-native: python3 cannot import torch; set TORCH_INCLUDE, TORCH_LIB and CXX11_ABI"; exit 2; }
  TORCH_INCLUDE=${TORCH_INCLUDE:-$torch_dir/include}
  TORCH_LIB=${TORCH_LIB:-$torch_dir/lib}
  CXX11_ABI=${CXX11_ABI:-$torch_abi}
fi
jobs=${JOBS:-$(nproc)}
limit=${COMPILE_SECONDS:-200}
optional=" THSJIT.cpp THSExport.cpp "

mkdir -p "$out/obj" "$out/log"
rm -f "$out"/obj/*.o "$out"/log/* "$out/libLibTorchSharp.so"
# TorchSharp's own Linux flags (src/Native/CMakeLists.txt) minus -Werror: newer headers deprecate what it calls.
export BN_NATIVE=$native BN_OUT=$out
export BN_CXXFLAGS="-std=c++17 -O2 -DNDEBUG -fPIC -fvisibility=hidden -fstack-protector-strong -w
  -D_GLIBCXX_USE_CXX11_ABI=$CXX11_ABI -D_NO_ASYNCRTIMP -D_NO_PPLXIMP -D__LINUX__
  -I$TORCH_INCLUDE -I$TORCH_INCLUDE/torch/csrc/api/include"

compile_one() {
  local file=$1 started=$SECONDS compiler=g++ status
  [[ $file == *.c ]] && compiler="gcc -msse4.2"
  # shellcheck disable=SC2086 # the flags are a word list on purpose
  if $compiler $BN_CXXFLAGS -c "$BN_NATIVE/$file" -o "$BN_OUT/obj/$file.o" >"$BN_OUT/log/$file.log" 2>&1; then status=ok; else status=failed; fi
  echo "$status $((SECONDS - started))s $file" | tee "$BN_OUT/log/$file.status"
}
export -f compile_one

echo "build-native: $(g++ --version | head -1); libtorch headers $TORCH_INCLUDE, libraries $TORCH_LIB; C++11 ABI $CXX11_ABI; $jobs jobs, at most ${limit}s"
started=$SECONDS
# Largest first, so the longest compiles start at once and the tail stays short.
(cd "$native" && ls -S -- *.cpp *.c) | timeout --kill-after=5 "$limit" xargs -P "$jobs" -I{} bash -c 'compile_one "$@"' _ {}
compiled=$?
echo "build-native: compile phase took $((SECONDS - started))s (xargs status $compiled; 124 = the ${limit}s limit was reached)"

missing=() skipped=()
for source in $(cd "$native" && ls -- *.cpp *.c); do
  if [ "$(cut -d' ' -f1 "$out/log/$source.status" 2>/dev/null)" = ok ]; then continue; fi
  if [[ $optional == *" $source "* ]]; then skipped+=("$source"); else missing+=("$source"); fi
done
for source in "${skipped[@]}" "${missing[@]}"; do
  echo "--- $source: $(cat "$out/log/$source.status" 2>/dev/null || echo 'not compiled (time limit)')"
  grep -m 15 -E "error|Error" "$out/log/$source.log" 2>/dev/null
done
{
  echo "compiled in $((SECONDS - started))s with $jobs jobs against $TORCH_INCLUDE"
  echo "optional sources left out: ${skipped[*]:-none}"
  echo "required sources that failed: ${missing[*]:-none}"
} >"$out/summary.txt"
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-native: ${#missing[@]} required source(s) did not compile: ${missing[*]}"
  exit 1
fi

# TorchSharp links with -Bsymbolic so that its own definitions win over same-named ones elsewhere; $ORIGIN is the
# loader's, not the shell's.
link_started=$SECONDS
# shellcheck disable=SC2016
if ! g++ -shared -o "$out/libLibTorchSharp.so" "$out"/obj/*.o -L"$TORCH_LIB" -Wl,-rpath,'$ORIGIN' \
    -Wl,-Bsymbolic -Wl,-Bsymbolic-functions -Wl,--build-id=sha1 -ltorch -ltorch_cpu -lc10 >"$out/log/link.log" 2>&1; then
  echo "build-native: link failed:"; head -30 "$out/log/link.log"
  echo "link failed" >>"$out/summary.txt"
  exit 1
fi
echo "linked in $((SECONDS - link_started))s: $(du -h "$out/libLibTorchSharp.so" | cut -f1)" | tee -a "$out/summary.txt"
echo "build-native: built $out/libLibTorchSharp.so; optional sources left out: ${skipped[*]:-none}"
