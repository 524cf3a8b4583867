#!/usr/bin/env bash
# Batched eval throughput on a GPU machine (issue 10): `headfuse eval --batch B` (fp32 with TF32) beside transformers
# at the same batch (bench/hf_ppl_batched.py: fp32+TF32, bf16) on the same model and first N tokens, in alternating
# rounds of one run (each a fresh process). Prints every result line, each round's ratios, and the ratios of the medians.
#   usage: bench/gpu-eval-batched.sh MODEL TEXT [N_TOKENS] [ROUNDS] [BATCH]      (defaults 131072 3 8)
#   HEADFUSE="java -cp 'lib/*' io.headfuse.converter.cli.Main" overrides how headfuse is started (default ./headfuse)
set -uo pipefail
cd "$(dirname "$0")/.."
MODEL=$1; TEXT=$2; N=${3:-131072}; ROUNDS=${4:-3}; BATCH=${5:-8}
HEADFUSE=${HEADFUSE:-./headfuse}
export HEADFUSE_NO_BUILD=1
tps() { sed -n 's/.*"tokens_per_s" *: *\([0-9.eE+-]*\).*/\1/p' | head -1; }
hf=(); tr32=(); tr16=()
for r in $(seq "$ROUNDS"); do
  out=$(HEADFUSE_TF32=1 eval "$HEADFUSE" eval --model "$MODEL" --data "$TEXT" --max-tokens "$N" --device gpu --batch "$BATCH" --json /dev/stdout 2>/dev/null | tr -d '\n')
  echo "round $r headfuse --batch $BATCH (fp32+TF32): $out"; hf+=("$(echo "$out" | tps)")
  out=$(python3 bench/hf_ppl_batched.py "$MODEL" "$TEXT" --max-tokens "$N" --batch "$BATCH" --dtype fp32 --tf32 2>/dev/null)
  echo "round $r transformers fp32+TF32 batch $BATCH: $out"; tr32+=("$(echo "$out" | tps)")
  out=$(python3 bench/hf_ppl_batched.py "$MODEL" "$TEXT" --max-tokens "$N" --batch "$BATCH" --dtype bf16 2>/dev/null)
  echo "round $r transformers bf16 batch $BATCH: $out"; tr16+=("$(echo "$out" | tps)")
  awk -v h="${hf[-1]}" -v a="${tr32[-1]}" -v b="${tr16[-1]}" -v r="$r" 'BEGIN { printf "round %d: headfuse / transformers fp32+TF32 %.2f, / transformers bf16 %.2f\n", r, h / a, h / b }'
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
h=$(echo "${hf[*]}" | median); a=$(echo "${tr32[*]}" | median); b=$(echo "${tr16[*]}" | median)
awk -v h="$h" -v a="$a" -v b="$b" -v B="$BATCH" 'BEGIN { printf "medians at batch %d: headfuse %.0f, transformers fp32+TF32 %.0f, bf16 %.0f tokens/s; headfuse / fp32+TF32 %.2f (target >= 1.0), / bf16 %.2f\n", B, h, a, b, h / a, h / b }'
