#!/usr/bin/env bash
# PDF text extraction: Petal's reader beside pdftotext (one process per file), in one run.
# Needs poppler-utils (pdftotext). Optional argument: passes of Petal's reader (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pdftotext >/dev/null; then
  echo "bench-extract: pdftotext not found (apt-get install -y poppler-utils)" >&2
  exit 1
fi
pdftotext -v 2>&1 | head -n 1
cargo run --release --quiet -p petal-documents --features corpus --example extract_bench -- "$@"
