#!/usr/bin/env bash
# End to end: a 1 000-CV job from upload to ranked results against a real `petal serve`
# (release build, SQLite and local files in a fresh temporary data directory, default
# settings), with the server's peak memory. Options are passed to the benchmark:
# --cvs N (1000), --batch N files per request (50), --parallel N requests at once (2),
# --photo-kb K (a photo of about K KB in every PDF; 0, the default, for none), --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p petal-server
target_dir="${CARGO_TARGET_DIR:-target}"
cargo run --release --quiet -p petal-server --example bench_e2e -- \
  --petal "$target_dir/release/petal" "$@"
