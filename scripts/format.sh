#!/usr/bin/env bash
# Formats every tracked C++ file with the committed .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cc' '*.h' | xargs clang-format -i
