#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest.
# Extra arguments go to ctest (for example: ./test.sh -R geometry).
set -euo pipefail
cd "$(dirname "$0")"
tools/install-deps.sh
tools/build.sh
cd build
exec ctest --output-on-failure --parallel "$(nproc)" "$@"
