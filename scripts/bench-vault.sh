#!/usr/bin/env bash
# The document vault's data path (encrypt, store, fetch, decrypt) on 100 KB and 10 MB
# documents, beside OpenSSL's single-core AES-256-GCM rate, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p petal-server --example vault_throughput
echo
echo "openssl speed -evp aes-256-gcm (single core):"
openssl speed -evp aes-256-gcm -bytes 65536 -seconds 3 2>/dev/null | tail -n 1
openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null | tail -n 1
