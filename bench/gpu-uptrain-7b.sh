#!/usr/bin/env bash
# 7B-shaped uptraining on one GPU (issue 10): teacher = the synthetic Llama-2-7B-shaped MHA checkpoint
# (bench/SyntheticCheckpoint), student = its mean-pooled kv 8 conversion; `--train attention`, seq 2048, batch 1
# with accumulation (ACCUM, default 4), STEPS optimiser steps (default 20), frozen weights in fp16
# (`--fp16-weights`); beside distill_ref.py training the same parameter set (attention) on the same shapes
# (batch 1 x 2048, fp32+TF32; PRECISIONS="fp32 bf16" adds bf16 autocast). Prints tokens/s, the ratio, and the peak GPU memory of each.
# Run in a device call after `. bench/gpu-env.sh`; it expects $HEADFUSE, $HEADFUSE_JAVA, $HF_DIR with text/,
# tools/distill_ref.py and a tokenizer in headfuse-mha-m (the synthetic model's ids stay below its 8,192).
#   WORK_DIR=DIR (default $HF_DIR/d7, shared with bench/gpu-decode-7b.sh: mha/ and kv8/ are reused when present)
set -uo pipefail
cd "$(dirname "$0")/.."
. bench/gpu/peak.sh
: "${HEADFUSE:?source bench/gpu-env.sh first}" "${HF_DIR:?source bench/gpu-env.sh first}"
W=${WORK_DIR:-$HF_DIR/d7}; STEPS=${STEPS:-20}; ACCUM=${ACCUM:-4}; SEQ=2048
R=${OUT:-$PWD/gpu-uptrain-7b-out}; mkdir -p "$R" "$W"
[ -f "$W/mha/config.json" ] || $HEADFUSE_JAVA SyntheticCheckpoint "$W/mha" || exit 1
for f in tokenizer.json tokenizer_config.json; do cp "$HF_DIR/headfuse-mha-m/$f" "$W/mha/" 2>/dev/null; done
[ -f "$W/kv8/config.json" ] || $HEADFUSE convert --model "$W/mha" --out "$W/kv8" --kv-heads 8 --strategy mean > /dev/null || exit 1
for f in tokenizer.json tokenizer_config.json; do cp "$HF_DIR/headfuse-mha-m/$f" "$W/kv8/" 2>/dev/null; done
T=$HF_DIR/text; DATA="$T/sotu-1790-2021.txt $T/brown-plain.txt $T/moby-dick.txt $T/tinyshakespeare.txt"
echo "== headfuse: --train attention, batch 1 x $SEQ, accum $ACCUM, $STEPS steps, --fp16-weights"
peak $HEADFUSE uptrain --teacher "$W/mha" --student "$W/kv8" --data $DATA --eval "$T/moby-dick.txt" --eval-tokens 4096 \
  --out "$W/kv8-up" --force --train attention --seq $SEQ --batch 1 --accum "$ACCUM" --tokens $((STEPS * ACCUM * SEQ)) \
  --log-every 5 --device gpu --fp16-weights > "$R/headfuse-7b.log" 2>&1 || { echo "headfuse 7B uptrain failed:"; tail -8 "$R/headfuse-7b.log"; }
python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["uptrain"]
print("  headfuse: %d steps, %d tokens, %.0f tokens/s, peak device memory (sampled by headfuse) %.1f GiB, %s" % (u["steps"], u["tokens"], u["tokens_per_s"], (u.get("peak_device_bytes") or 0) / 2**30, u.get("kernels")))' "$W/kv8-up/headfuse.json" 2>/dev/null
# distill_ref.py's layout: W/teacher, W/students/NAME, W/text.
mkdir -p "$W/ref/students"; ln -sfn "$W/mha" "$W/ref/teacher"; ln -sfn "$W/kv8" "$W/ref/students/kv8"; ln -sfn "$T" "$W/ref/text"
for p in ${PRECISIONS:-fp32}; do
  echo "== PyTorch distill_ref.py --train attn, batch 1 x $SEQ, $p"
  peak python3 "$HF_DIR/tools/distill_ref.py" "$W/ref" "$R/ref-7b-$p.json" --students kv8 --train attn --budgets $((STEPS * SEQ)) \
    --lrs 3e-4 --batch 1 --seq $SEQ --precision $p > "$R/ref-7b-$p.log" 2>&1 || { echo "distill_ref $p failed:"; tail -5 "$R/ref-7b-$p.log"; }
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print("  PyTorch %s: %.0f tokens/s" % (sys.argv[2], r["train_tokens_per_s"]))' "$R/ref-7b-$p.json" $p 2>/dev/null
done
