#!/usr/bin/env bash
# Layer-wise calibration on a GPU machine (issue 10): the asym conversion of the synthetic Llama-2-7B-shaped checkpoint
# with 16,384 calibration tokens, calibrated on the GPU one decoder layer at a time (--calib-layerwise yes; the
# whole fp32 model would fit an H200, so auto would not choose it there). Prints the wall time and the peak GPU
# memory (nvidia-smi, sampled twice a second; "n/a" without it). The synthetic model has no tokenizer: headfuse-mha-s's
# (8192 ids, inside the 32000 of the vocabulary) is copied in, so the calibration text can be tokenized.
#   usage: bench/gpu-calib-7b.sh TEXT [TOKENS]        (default 16384; SMALL=1: 4 layers)
#   HEADFUSE, HEADFUSE_CP, SYNTH_ARGS, DEVICE: as in bench/gpu-decode-7b.sh; KV: kv heads (default 8);
#   RESTARTS: starts of asym's swap search (--restarts; default the CLI's 8; bench/Linalg7B.java projects the time)
#   HEADFUSE_LINALG: the head statistics' products; default torch on the GPU (float64 on libtorch, the SVDs in Java),
#   java on the CPU (the GPU bundle has no ND4J)
set -euo pipefail
cd "$(dirname "$0")/.."
TEXT=$1; TOKENS=${2:-16384}
HEADFUSE=${HEADFUSE:-./headfuse}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
CP=${HEADFUSE_CP:-formats/target/headfuse-formats-0.1.0-SNAPSHOT.jar:$(cat converter/target/classpath.txt 2>/dev/null || true)}
export HEADFUSE_HEAP=${HEADFUSE_HEAP:-24g} HEADFUSE_NO_BUILD=1
POLL=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/headfuse-calib.XXXXXX"); trap '[ -n "$POLL" ] && kill "$POLL" 2>/dev/null; rm -rf "$WORK"' EXIT
if [ "${SMALL:-0}" = 1 ]; then ARGS="4 4096 32 11008 32000"; else ARGS="${SYNTH_ARGS:-}"; fi
DEVICE=${DEVICE:-gpu}
if [ "$DEVICE" = cpu ]; then export HEADFUSE_LINALG=${HEADFUSE_LINALG:-auto}; else export HEADFUSE_LINALG=${HEADFUSE_LINALG:-torch}; fi
${SYNTH:-"$JAVA" -cp "$CP" bench/SyntheticCheckpoint.java} "$WORK/mha" $ARGS
cp models/headfuse-mha-s/tokenizer.json models/headfuse-mha-s/tokenizer_config.json "$WORK/mha/"
# The memory samples and the conversion's log go to $OUT when there is one, so a run that the device call's limit
# cuts short still says how far it got (per-phase lines) and its peak so far.
MEM=${OUT:-$WORK}/calib-7b-gpu-mem.txt; LOG=${OUT:-$WORK}/calib-7b-convert.log
if command -v nvidia-smi >/dev/null; then
  (while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0; sleep 0.5; done) >"$MEM" 2>/dev/null & POLL=$!
fi
t0=$(date +%s.%N)
eval "$HEADFUSE" convert --model "$WORK/mha" --out "$WORK/asym8" --kv-heads "${KV:-8}" --strategy asym --calib "$TEXT" --calib-tokens "$TOKENS" \
  --calib-device "$DEVICE" --calib-layerwise yes ${RESTARTS:+--restarts "$RESTARTS"} 2>&1 | tee "$LOG"
t1=$(date +%s.%N)
[ -n "$POLL" ] && { kill "$POLL"; wait "$POLL" 2>/dev/null || true; }   # wait reports the kill: not a failure
peak=$( [ -s "$MEM" ] && sort -g "$MEM" | tail -1 | awk '{printf "%.1f GiB", $1 / 1024}' || echo n/a)
awk -v a="$t0" -v b="$t1" -v p="$peak" -v n="$TOKENS" -v kv="${KV:-8}" -v d="$DEVICE" 'BEGIN { printf "asym kv %d of the synthetic checkpoint, %d calibration tokens, layer-wise on %s: %.0f s wall (conversion included), peak GPU memory %s\n", kv, n, d, b - a, p }'
grep -o '"calib[^,]*' "$WORK/asym8/headfuse.json" 2>/dev/null || true
[ -n "${OUT:-}" ] && cp "$WORK/asym8/headfuse.json" "$OUT/calib-7b-headfuse.json"   # per-layer plan seconds, groups, errors
grep -E '^(calibrate|plan asym|convert)[^:]*: [0-9,]+ [a-zA-Z]+ in ' "$LOG" || true   # the time of each phase
