#!/usr/bin/env bash
# Configures build/ (Ninja, Release) on first use, then builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${HEX_BUILD_TYPE:-Release}"
fi
cmake --build build
