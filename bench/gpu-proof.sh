#!/usr/bin/env bash
# Call 2 of a staged GPU run (docs/gpu.md, "Repeatable GPU runs"): sets up the environment with gpu-env.sh, then
#   1. headfuse eval of the teacher on the moby-dick validation slice (--from 0.98, window 1024) on the GPU, with
#      TF32 (headfuse's default) and without;
#   2. transformers' perplexity on the same tokens (tools/hf_ppl.py through hf_ppl_slice.py), bf16 weights (the
#      convention of reference.json) and fp32;
#   3. a gradient smoke test: backward on the GPU against the CPU (GpuGradientSmoke, TF32 off);
# and prints the perplexities and their ratios. Result files go to $OUT when it is set (the device tool's).
#   usage (on the device, in the repository root): bash /tmp/hf/code/bench/gpu-proof.sh [WINDOW]
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/gpu-env.sh" || exit 1
WINDOW="${1:-1024}"
RES="${OUT:-$HF_DIR/results}"; mkdir -p "$RES"
MODEL="$HF_DIR/headfuse-mha-m"; TEXT="$HF_DIR/text/moby-dick.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
status=0
ppl() { sed -n 's/.*"ppl" *: *\([0-9.eE+-]*\).*/\1/p' "$1" | head -1; }

for tf in 1 0; do
  HEADFUSE_TF32=$tf $HEADFUSE eval --model "$MODEL" --data "$TEXT" --from 0.98 --window "$WINDOW" --device gpu \
    --json "$RES/headfuse-tf32-$tf.json" || { echo "gpu-proof: headfuse eval (TF32=$tf) failed" >&2; status=1; }
  echo "headfuse eval, TF32=$tf: $(tr -d '\n' < "$RES/headfuse-tf32-$tf.json" 2>/dev/null)"
done
for dt in bf16 fp32; do
  python3 "$HERE/hf_ppl_slice.py" "$HF_PPL" --from 0.98 "$MODEL" "$TEXT" --window "$WINDOW" --dtype "$dt" \
    > "$RES/transformers-$dt.json" || { echo "gpu-proof: hf_ppl.py ($dt) failed" >&2; status=1; }
  echo "transformers $dt: $(cat "$RES/transformers-$dt.json")"
done
HEADFUSE_TF32=0 $HEADFUSE_JAVA GpuGradientSmoke "$MODEL" "$TEXT" 512 gpu | tee "$RES/gradient.json" || status=1
echo "gradient smoke: $(grep -o '"ok": [a-z]*' "$RES/gradient.json")"

awk -v a="$(ppl "$RES/headfuse-tf32-1.json")" -v b="$(ppl "$RES/transformers-bf16.json")" \
    -v c="$(ppl "$RES/headfuse-tf32-0.json")" -v d="$(ppl "$RES/transformers-fp32.json")" 'BEGIN {
  if (a == "" || b == "" || c == "" || d == "") { print "gpu-proof: a perplexity is missing"; exit 1 }
  printf "moby-dick slice, window '"$WINDOW"': headfuse (fp32, TF32) %.4f / transformers (bf16) %.4f = %.6f\n", a, b, a / b
  printf "moby-dick slice, window '"$WINDOW"': headfuse (fp32) %.4f / transformers (fp32) %.4f = %.6f\n", c, d, c / d }' || status=1
exit $status
