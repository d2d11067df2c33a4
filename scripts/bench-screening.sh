#!/usr/bin/env bash
# The local screening engine's throughput: engine::screen over ~1 000 CV texts (single thread,
# several passes) and the ranking sort. Optional arguments: number of CVs (default 1000) and
# timed passes (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p petal-screening --example screen_bench -- "$@"
