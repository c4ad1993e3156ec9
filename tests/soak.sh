#!/usr/bin/env bash
# The crash soak: the kill test of tests/engine_crash.rs with more rounds (default 20) and a seed
# printed for replay. Writes the result to tests/soak-result.txt.
#   bash tests/soak.sh [ROUNDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-20}"
seed="${2:-$(date +%s%N)}"
out="tests/soak-result.txt"
start=$(date +%s)
status=0
DUALSYNC_KILL_ROUNDS="$rounds" DUALSYNC_KILL_SEED="$seed" \
  cargo test --quiet -p dualsync-tests --test engine_crash -- --nocapture 2>&1 | tee /tmp/dualsync-soak.log || status=$?
{
  echo "# crash soak: bash tests/soak.sh $rounds $seed"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "rounds: $rounds, seed: $seed, seconds: $(( $(date +%s) - start ))"
  echo "result: $([ "$status" = 0 ] && echo passed || echo "FAILED (exit $status)")"
  grep -E '^(round|kill test)' /tmp/dualsync-soak.log || true
} > "$out"
cat "$out"
exit "$status"
