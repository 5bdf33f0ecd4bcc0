#!/usr/bin/env bash
# Builds llama-cpp-python once with portable CPU flags and installs that wheel.
#
# Why: llama.cpp's default build is GGML_NATIVE=ON — it enables every instruction the *build*
# machine reports (AMX, AVX-512-FP16 …). Such a binary segfaulted at the first decode on Intel
# Xeons with AMX, and a wheel built on one machine and reused from pip's cache on another can
# crash there. The fixed flags below run on any x86-64 CPU with AVX2 (on other architectures
# the x86 options are ignored and llama.cpp builds its generic code). The wheel is kept in a
# folder named after the version and the flags, so a wheel built with other flags (pip's own
# cache keys wheels by URL only, not by build settings) is never picked up.
set -euo pipefail
PIP=${1:?usage: install_llama.sh path/to/pip}
VERSION=0.3.36
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
KEY=$(printf '%s %s %s' "$VERSION" "$FLAGS" "$(uname -m)" | sha256sum | cut -c1-12)
DIR=${GEMMA_WIZARD_WHEELS:-$HOME/.cache/gemma-wizard/wheels}/llama-cpp-python-$VERSION-portable-$KEY
if ! ls "$DIR"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "Building llama-cpp-python $VERSION with portable flags (several minutes, once per machine)…"
  mkdir -p "$DIR.tmp"
  CMAKE_ARGS="$FLAGS" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$PIP" wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$VERSION" -w "$DIR.tmp"
  printf '%s\n' "$FLAGS" > "$DIR.tmp/BUILD_FLAGS"
  rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
fi
"$PIP" install --no-deps --force-reinstall "$DIR"/llama_cpp_python-*.whl
# The build flags travel with the installed package, so `python -m core doctor` can show them.
SITE=$("$PIP" show llama-cpp-python | sed -n 's/^Location: //p')
cp "$DIR/BUILD_FLAGS" "$SITE/llama_cpp/GEMMA_WIZARD_BUILD_FLAGS"
