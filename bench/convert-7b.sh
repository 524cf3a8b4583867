#!/usr/bin/env bash
# Conversion benchmark (issue: conversion speed and memory). Generates a synthetic bf16 checkpoint with
# Llama-2-7B's shapes (32 layers, hidden 4096, 32 heads, intermediate 11008, vocab 32000: ~13.5 GB in 5 GB
# shards), then, in the same run, times `cp` of the same shards and `headfuse convert --kv-heads 8`, alternating
# them (ROUNDS times) so each pair sees the same page-cache state and machine load, and prints the median of the
# per-round ratios (and the ratio of the best times) and the converter's peak RSS. Needs ~45 GB of free disk under WORK.
#   usage: bench/convert-7b.sh [WORK_DIR] [ROUNDS]     (SMALL=1 for a quick 4-layer run)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/headfuse-bench}"; ROUNDS="${2:-3}"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./headfuse --help >/dev/null   # builds on first use
export HEADFUSE_NO_BUILD=1     # no rebuild inside the timed runs
CP="formats/target/headfuse-formats-0.1.0-SNAPSHOT.jar:$(cat converter/target/classpath.txt)"
rm -rf "$WORK"; mkdir -p "$WORK"
if [ "${SMALL:-0}" = 1 ]; then ARGS="4 4096 32 11008 32000 1000000000"; else ARGS=""; fi
"$JAVA_HOME/bin/java" -cp "$CP" bench/SyntheticCheckpoint.java "$WORK/in" $ARGS
du -sh "$WORK/in"

best() { sort -g | head -1; }
now() { date +%s.%N; }
cp_times=(); conv_times=(); ratios=(); rss=0
for r in $(seq "$ROUNDS"); do
  rm -rf "$WORK/copy" "$WORK/out"; sync
  t=$(now); mkdir "$WORK/copy"; cp "$WORK"/in/*.safetensors "$WORK/copy/"; sync; cp_times+=("$(echo "$(now) - $t" | bc)")
  rm -rf "$WORK/copy"; sync
  t=$(now)
  /usr/bin/time -f "%M" -o "$WORK/rss" ./headfuse convert --model "$WORK/in" --out "$WORK/out" --kv-heads 8 >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
  sync; conv_times+=("$(echo "$(now) - $t" | bc)")
  kb=$(cat "$WORK/rss"); [ "$kb" -gt "$rss" ] && rss=$kb
  ratios+=("$(echo "${conv_times[-1]} / ${cp_times[-1]}" | bc -l)")
  printf 'round %d: cp+sync %.1f s, convert+sync %.1f s, ratio %.2f, convert peak RSS %d MiB\n' "$r" "${cp_times[-1]}" "${conv_times[-1]}" "${ratios[-1]}" $((kb / 1024))
done
c=$(printf '%s\n' "${cp_times[@]}" | best); v=$(printf '%s\n' "${conv_times[@]}" | best)
echo "input: $(du -sb "$WORK/in" | cut -f1) bytes; output: $(du -sb "$WORK/out" | cut -f1) bytes"
m=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
printf 'median per-round ratio convert/cp: %.2f (target <= 1.5); best convert %.1f s / best cp %.1f s = %.2f; peak RSS %d MiB (target < 2048)\n' "$m" "$v" "$c" "$(echo "$v / $c" | bc -l)" $((rss / 1024))
rm -rf "$WORK"
