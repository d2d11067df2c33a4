#!/usr/bin/env bash
# Envelope encryption throughput beside OpenSSL's AES-256-GCM, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p petal-crypto --example envelope_throughput
openssl speed -evp aes-256-gcm -bytes 65536 -seconds 3 2>/dev/null | tail -n 1
