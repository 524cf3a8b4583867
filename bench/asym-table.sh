#!/usr/bin/env bash
# The asym table (issue: activation-informed grouping): zero-shot perplexity of headfuse-mha-m converted to KV
# kv heads by mean-pooling and by asym (plain, +align, +align+least-squares; decoupled and coupled), calibrated
# on CALIB_TOKENS tokens of the SOTU text and evaluated on the Moby-Dick validation slice. Everything runs in
# memory (no checkpoint is written); prints a Markdown table with the conversion time of each cell, and draws
# it as a bar chart (log-scale perplexity) to ASYM_PNG, by default asym-table.png in the folder it was run from.
#   usage: bench/asym-table.sh [MODEL] [CALIB_TEXT] [EVAL_TEXT] [CALIB_TOKENS] [KV...]
#   HF_BUILD=target-x uses (and builds into) that build folder instead of the launcher's target/.
set -euo pipefail
PNG="$(realpath -m "${ASYM_PNG:-asym-table.png}")"   # resolved before the cd below, against the caller's folder
cd "$(dirname "$0")/.."
ASSETS="${HEADFUSE_ASSETS:-../shared/assets}"
MODEL="${1:-$ASSETS/models/headfuse-mha-m}"
CALIB="${2:-$ASSETS/text/sotu/sotu-1790-2021.txt}"
EVAL="${3:-$ASSETS/text/moby-dick/moby-dick.txt}"
TOKENS="${4:-65536}"
shift $(( $# < 4 ? $# : 4 ))
KVS=("$@"); [ ${#KVS[@]} -gt 0 ] || KVS=(4 2)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
BUILD="${HF_BUILD:-target}"
if [ -n "${HF_BUILD:-}" ]; then
  mvn -o -q -Dhf.build="$HF_BUILD" -DskipTests -Dspotless.check.skip=true -pl converter -am package >&2
else
  ./headfuse --help >/dev/null   # builds on first use
fi
CP="converter/$BUILD/headfuse-converter-0.1.0-SNAPSHOT.jar:$(cat "converter/$BUILD/classpath.txt")"
exec "$JAVA_HOME/bin/java" -Xmx4g --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" \
  io.headfuse.converter.report.AsymBench --png "$PNG" "$MODEL" "$CALIB" "$EVAL" "$TOKENS" "${KVS[@]}"
