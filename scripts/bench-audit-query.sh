#!/usr/bin/env bash
# The audit log's query speed on an organisation with a million events: `audit::list` under
# each filter of GET /api/v1/audit, with the query indexes and without them, in one run.
# Optional arguments: number of events (default 1000000) and timed runs per query (default 30).
# PETAL_BENCH_DATABASE_URL=postgres://… runs it on PostgreSQL (the database is filled).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p petal-storage --example audit_query_bench -- "$@"
