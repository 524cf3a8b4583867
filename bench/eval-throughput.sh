#!/usr/bin/env bash
# Evaluation-throughput benchmark (issue: runtime performance): tokens/s of perplexity evaluation with the DJL
# runtime, headfuse-mha-m by default, on the first TOKENS tokens of the SOTU text in disjoint 512-token windows.
# Prints one JSON line (best and median of ROUNDS timed passes after a warm-up). The transformers peer for the
# same number on the GPU machine: tools/hf_ppl.py MODEL TEXT --max-tokens TOKENS (its tokens_per_s).
#   usage: bench/eval-throughput.sh [MODEL] [TEXT] [TOKENS] [DEVICE] [ROUNDS]
#   HF_BUILD=target-x uses (and builds into) that build folder instead of the launcher's target/.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS="${HEADFUSE_ASSETS:-../shared/assets}"
MODEL="${1:-$ASSETS/models/headfuse-mha-m}"
TEXT="${2:-$ASSETS/text/sotu/sotu-1790-2021.txt}"
TOKENS="${3:-16384}"; DEVICE="${4:-cpu}"; ROUNDS="${5:-3}"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ -n "${HF_BUILD:-}" ]; then
  mvn -o -q -Dhf.build="$HF_BUILD" -DskipTests -Dspotless.check.skip=true -pl converter -am package >&2
  CP="$(cat "converter/$HF_BUILD/classpath.txt")"
else
  ./headfuse --help >/dev/null   # builds on first use
  CP="$(cat converter/target/classpath.txt)"
fi
exec "$JAVA_HOME/bin/java" -Xmx4g --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$CP" \
  bench/EvalThroughput.java "$MODEL" "$TEXT" "$TOKENS" 512 "$DEVICE" "$ROUNDS"
