#!/usr/bin/env bash
# Eval throughput on a GPU machine: headfuse (DJL PyTorch engine, fp32 with TF32 on, then off) beside HF
# transformers (../shared/tools/hf_ppl.py: fp32+TF32, fp32, bf16) on the same model and the same first N tokens
# of the same text, in alternating rounds of one run. Prints every result line and the ratios of the medians.
#
# Needs: a Java 25 runtime, DJL pointed at the machine's libtorch (PYTORCH_LIBRARY_PATH, PYTORCH_VERSION,
# PYTORCH_FLAVOR, DJL_OFFLINE=true: see docs/gpu.md), python3 with torch + transformers, awk, and the headfuse jars.
#   usage: bench/gpu-eval-vs-transformers.sh MODEL TEXT [N_TOKENS] [ROUNDS]
#   HEADFUSE="java -cp 'lib/*' io.headfuse.converter.cli.Main" overrides how headfuse is started (default ./headfuse)
set -uo pipefail
cd "$(dirname "$0")/.."
MODEL=$1; TEXT=$2; N=${3:-131072}; ROUNDS=${4:-2}
HF_PPL=${HF_PPL:-../shared/tools/hf_ppl.py}
HEADFUSE=${HEADFUSE:-./headfuse}
tps() { sed -n 's/.*"tokens_per_s" *: *\([0-9.]*\).*/\1/p' | head -1; }
declare -A runs
for r in $(seq "$ROUNDS"); do
  for tf in 1 0; do
    out=$(HEADFUSE_TF32=$tf eval "$HEADFUSE" eval --model "$MODEL" --data "$TEXT" --max-tokens "$N" --device gpu --json /dev/stdout 2>/dev/null | tr -d '\n')
    echo "round $r headfuse tf32=$tf: $out"; runs[headfuse-tf32=$tf]+="$(echo "$out" | tps) "
  done
  for d in "fp32 --tf32" "fp32" "bf16"; do
    out=$(python3 "$HF_PPL" "$MODEL" "$TEXT" --max-tokens "$N" --dtype $d 2>/dev/null)
    echo "round $r transformers $d: $out"; runs[transformers-${d// /}]+="$(echo "$out" | tps) "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ref=$(echo "${runs[transformers-fp32--tf32]}" | median)
for k in "${!runs[@]}"; do
  m=$(echo "${runs[$k]}" | median)
  awk -v k="$k" -v m="$m" -v r="$ref" 'BEGIN { printf "%-28s median %8.0f tokens/s   %.2f x transformers fp32+TF32\n", k, m, m / r }' 
done | sort
