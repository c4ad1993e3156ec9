#!/usr/bin/env bash
# The robustness test for longer than CI runs it: random mutations of the corpus through the reader,
# the generator and the runtime's parsers. Usage: tests/robustness.sh [SECONDS] [SEED]
# (default 600 s, a fresh seed; the seed is printed so a failure can be replayed).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROBUSTNESS_SECS="${1:-600}"
if [ -n "${2:-}" ]; then export ROBUSTNESS_SEED="$2"; fi
cargo test --release -p dualsync-tests --test robustness -- --nocapture
