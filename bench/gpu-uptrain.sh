#!/usr/bin/env bash
# Uptraining on the GPU machine, headfuse beside PyTorch (../shared/tools/distill_ref.py) in the same call
# (issue 8). Run it in a device call after `. bench/gpu-env.sh` (docs/gpu.md): it expects $HEADFUSE, $HF_DIR with
# the teacher headfuse-mha-m, text/ (the four training texts), tools/distill_ref.py, and patches/asymN (asym
# students as written by `bench/gpu/student_patch.py split`, since whole students do not fit in a call).
#
#   SECTIONS="check ablation speed" bench/gpu-uptrain.sh
#   check     every student (asym2, asym4, mean2, mean4) x seeds 0,1,2 at 0.4M tokens, batch 8 x 1024, lr 3e-4:
#             moby-dick validation perplexity (window 1024) of the written bf16 checkpoint, mean over seeds,
#             beside distill_ref.py --seeds 0,1,2 run here; prints the ratio of the means.
#   ablation  asym2, seed 0, 0.4M tokens: headfuse's recipe variants (ABLATION lines "name|flags").
#   speed     tokens/s of one uptrain at batch 16 x 1024 (asym2), beside distill_ref.py fp32+TF32 and bf16
#             autocast on the same budget, with the peak GPU memory nvidia-smi saw for each; headfuse twice: with
#             its fused kernels (libheadfuse_torch.so, when gpu-env.sh built it) and with primitive operators only.
#   kernels   asym2, seed 0, 0.4M tokens, headfuse's default recipe, with and without the fused kernels: the same
#             run both ways (the perplexities agree up to TF32 and kernel rounding).
#   default   asym2 x seeds 0,1,2 at 0.4M tokens with headfuse's default recipe (the "beyond the reference" target).
# Writes logs and JSON to $OUT (device) or ./gpu-uptrain-out; prints every figure it reports.
set -uo pipefail
cd "$(dirname "$0")/.."
. bench/gpu/peak.sh
: "${HEADFUSE:?source bench/gpu-env.sh first}" "${HF_DIR:?source bench/gpu-env.sh first}"
SECTIONS=${SECTIONS:-"check ablation speed"}
STUDENTS=${STUDENTS:-asym2 asym4 mean2 mean4}
SEEDS=${SEEDS:-0 1 2}
TOKENS=${TOKENS:-0.4e6}
SPEED_TOKENS=${SPEED_TOKENS:-1.6e6}
# distill_ref.py's recipe, spelled out (headfuse's own defaults may differ); a flag given twice keeps its first value.
REFERENCE="--batch 8 --lr 3e-4 --warmup 0.05 --loss kl --train all --kv-lr-scale 1"
R=${OUT:-$PWD/gpu-uptrain-out}; mkdir -p "$R"
W=$HF_DIR/work; mkdir -p "$W/students" "$W/up"
ln -sfn "$HF_DIR/headfuse-mha-m" "$W/teacher"; ln -sfn "$HF_DIR/text" "$W/text"
DATA="$W/text/sotu-1790-2021.txt $W/text/brown-plain.txt $W/text/moby-dick.txt $W/text/tinyshakespeare.txt"
for s in $STUDENTS; do
  [ -d "$W/students/$s" ] && continue
  case $s in
    asym*) python3 bench/gpu/student_patch.py join "$HF_DIR/patches/$s" "$W/teacher" "$W/students/$s" || exit 1 ;;
    mean*) $HEADFUSE convert --model "$W/teacher" --kv-heads "${s#mean}" --strategy mean --out "$W/students/$s" > /dev/null || exit 1 ;;
  esac
done
# The moby-dick perplexity after training, and the training tokens/s, from an uptrain's headfuse.json.
after() { python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["uptrain"]; p=u["perplexity"]
print(p["before"]["moby-dick.txt"], p["after"]["moby-dick.txt"], u["tokens_per_s"], p.get("teacher", {}).get("moby-dick.txt"))' "$1/headfuse.json"; }
uptrain() {  # NAME STUDENT SEED FLAGS...
  local name=$1 student=$2 seed=$3; shift 3
  $HEADFUSE uptrain --teacher "$W/teacher" --student "$W/students/$student" --data $DATA --eval "$W/text/moby-dick.txt" \
    --out "$W/up/$name" --force --tokens "$TOKENS" --seq 1024 --seed "$seed" --device gpu --dtype bf16 "$@" \
    > "$R/$name.log" 2>&1 || { echo "uptrain $name failed:"; tail -5 "$R/$name.log"; return 1; }
  read -r before ppl tps teacher <<< "$(after "$W/up/$name")"
  printf 'headfuse %-24s moby %9.3f -> %8.3f   teacher %s   %8.0f tokens/s\n' "$name" "$before" "$ppl" "$teacher" "$tps"
  echo "$name $ppl $tps" >> "$R/headfuse-results.txt"
}

if [[ " $SECTIONS " == *" check "* ]]; then
  echo "== check: $STUDENTS x seeds $SEEDS, $TOKENS tokens"
  python3 "$HF_DIR/tools/distill_ref.py" "$W" "$R/ref.json" --students "$(echo $STUDENTS | tr ' ' ,)" --budgets "$TOKENS" --lrs 3e-4 \
    --batch 8 --seq 1024 --seeds "$(echo $SEEDS | tr ' ' ,)" > "$R/ref.log" 2>&1 || { echo "distill_ref failed"; tail -5 "$R/ref.log"; }
  for s in $STUDENTS; do for seed in $SEEDS; do uptrain "$s-seed$seed" "$s" "$seed" $REFERENCE; done; done
  python3 - "$R/ref.json" "$R/headfuse-results.txt" "$STUDENTS" <<'PY'
import json, sys, statistics as st
ref = json.load(open(sys.argv[1])); hf = [l.split() for l in open(sys.argv[2])]
print(f"teacher (transformers) moby {ref['teacher']['moby_val']:.3f}")
print(f"{'student':8} {'PyTorch mean':>13} {'headfuse mean':>14} {'ratio':>7}   (per seed: PyTorch | headfuse)")
for s in sys.argv[3].split():
    r = [run["points"][-1]["moby_val"] for run in ref["runs"] if run["student"] == s]
    h = [float(p) for n, p, _ in hf if n.startswith(s + "-seed")]
    if r and h:
        print(f"{s:8} {st.mean(r):13.3f} {st.mean(h):14.3f} {st.mean(h) / st.mean(r):7.4f}   {[round(x, 2) for x in r]} | {[round(x, 2) for x in h]}")
PY
fi

if [[ " $SECTIONS " == *" ablation "* ]]; then
  echo "== ablation: asym2, seed 0, $TOKENS tokens"
  ABLATION=${ABLATION:-"lr6e-4|--batch 8 --lr 6e-4;lr1e-3|--batch 8 --lr 1e-3;batch4-lr3e-4|--batch 4 --lr 3e-4;batch4-lr6e-4|--batch 4 --lr 6e-4;batch4-lr1e-3|--batch 4 --lr 1e-3;kvlr4|--batch 8 --lr 3e-4 --kv-lr-scale 4;klce|--batch 8 --lr 3e-4 --loss kl+ce --ce-weight 0.5;batch4-lr6e-4-kvlr3|--batch 4 --lr 6e-4 --kv-lr-scale 3"}
  IFS=';' read -ra rows <<< "$ABLATION"
  for row in "${rows[@]}"; do uptrain "ablation-${row%%|*}" asym2 0 ${row#*|}; done
fi

if [[ " $SECTIONS " == *" speed "* ]]; then
  echo "== speed: asym2, batch 16 x 1024, $SPEED_TOKENS tokens"
  for p in fp32 bf16; do
    peak python3 "$HF_DIR/tools/distill_ref.py" "$W" "$R/speed-ref-$p.json" --students asym2 --budgets "$SPEED_TOKENS" --lrs 3e-4 --batch 16 \
      --seq 1024 --precision $p > "$R/speed-ref-$p.log" 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print("PyTorch %-5s %9.0f tokens/s" % (sys.argv[2], r["train_tokens_per_s"]))' "$R/speed-ref-$p.json" $p
  done
  TOKENS=$SPEED_TOKENS peak uptrain speed-batch16 asym2 0 --batch 16 --lr 3e-4 --log-every 1000 --eval-tokens 2048
  HEADFUSE_TORCH_KERNELS=off TOKENS=$SPEED_TOKENS peak uptrain speed-batch16-primitive asym2 0 --batch 16 --lr 3e-4 --log-every 1000 --eval-tokens 2048
fi

if [[ " $SECTIONS " == *" kernels "* ]]; then
  echo "== kernels: asym2, seed 0, $TOKENS tokens, default recipe, fused kernels ($HEADFUSE_TORCH_KERNELS) vs primitive operators"
  uptrain kernels-fused asym2 0
  HEADFUSE_TORCH_KERNELS=off uptrain kernels-primitive asym2 0
fi

if [[ " $SECTIONS " == *" default "* ]]; then
  echo "== default recipe: asym2 x seeds $SEEDS, $TOKENS tokens"
  for seed in $SEEDS; do uptrain "default-asym2-seed$seed" asym2 "$seed"; done
  python3 -c 'import sys, statistics as st
v = [float(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("default-asym2-seed")]
print("default recipe asym2: mean %.3f over %d seeds %s (target <= 70.0)" % (st.mean(v), len(v), [round(x, 2) for x in v]))' "$R/headfuse-results.txt"
fi
