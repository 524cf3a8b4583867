#!/usr/bin/env bash
# DHA against GQA at equal KV budget and equal tokens on the GPU machine (issue 9), headfuse-mha-m: for each N in
# KV (default "2 4"), `convert --strategy dha --kv-heads N` (allocation from 65,536 sotu calibration tokens, learned
# fusion on FUSION tokens of the four training texts, collapse), then `uptrain` for the rest of the 0.4M-token
# budget with headfuse's default recipe; the moby-dick validation perplexity (window 1024) after each stage, the
# per-layer K/V budgets chosen, and each stage's time. Run it in a device call after `. bench/gpu-env.sh`
# (docs/gpu.md): it expects $HEADFUSE and $HF_DIR with headfuse-mha-m and text/.
#   KV="2 4" FUSION=50000 TOTAL=400000 SEED=0 bench/gpu-dha.sh   (50,000 fusion tokens beat 100,000 and 200,000 at both N: README)
# FUSION_FLAGS adds flags to `convert` (the learned-fusion settings, e.g. "--fusion-batch 4 --operator-lr 0.2"), and
# TAG labels that variant's files and printed line, so one device call can try several:
#   for v in "b1:" "b4:--fusion-batch 4"; do TAG=${v%%:*} FUSION_FLAGS=${v#*:} KV=2 bench/gpu-dha.sh; done
# The targets are PyTorch's asym + uptrain at the same budget; for a same-call comparison run distill_ref.py in the
# same device call (carry .gpu/students.tar.xz too, for the asym students):
#   KV="2 4" bench/gpu-dha.sh; SECTIONS=check STUDENTS="asym2 asym4" SEEDS=0 bench/gpu-uptrain.sh
# Writes logs and JSON to $OUT (device) or ./gpu-dha-out; prints every figure it reports.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${HEADFUSE:?source bench/gpu-env.sh first}" "${HF_DIR:?source bench/gpu-env.sh first}"
KV=${KV:-2 4}; FUSION=${FUSION:-50000}; TOTAL=${TOTAL:-400000}; SEED=${SEED:-0}
FUSION_FLAGS=${FUSION_FLAGS:-}; TAG=${TAG:-}
[[ $TAG =~ ^[A-Za-z0-9._-]*$ ]] || { echo "TAG '$TAG': use letters, digits, '.', '_' or '-' (it names files)"; exit 2; }
S=${TAG:+-$TAG}   # suffix of this variant's file names (none without TAG)
R=${OUT:-$PWD/gpu-dha-out}; mkdir -p "$R"
W=$HF_DIR/work-dha; mkdir -p "$W"
M=$HF_DIR/headfuse-mha-m; T=$HF_DIR/text
DATA="$T/sotu-1790-2021.txt $T/brown-plain.txt $T/moby-dick.txt $T/tinyshakespeare.txt"
for n in $KV; do
  x=dha$n$S
  t0=$SECONDS
  $HEADFUSE convert --model "$M" --out "$W/$x" --force --kv-heads "$n" --strategy dha --calib "$T/sotu-1790-2021.txt" \
    --calib-tokens 65536 --calib-device gpu --data $DATA --tokens "$FUSION" --device gpu $FUSION_FLAGS > "$R/convert-$x.log" 2>&1 \
    || { echo "convert $x failed:"; tail -5 "$R/convert-$x.log"; continue; }
  t1=$SECONDS
  $HEADFUSE uptrain --teacher "$M" --student "$W/$x" --data $DATA --eval "$T/moby-dick.txt" --out "$W/$x-up" --force \
    --tokens $((TOTAL - FUSION)) --seq 1024 --seed "$SEED" --device gpu --dtype bf16 > "$R/uptrain-$x.log" 2>&1 \
    || { echo "uptrain $x failed:"; tail -5 "$R/uptrain-$x.log"; continue; }
  t2=$SECONDS
  cp "$W/$x/headfuse.json" "$R/$x-convert.json"; cp "$W/$x-up/headfuse.json" "$R/$x-uptrain.json"
  cp "$W/$x/dha.png" "$R/$x.png" 2>/dev/null
  python3 - "$R/$x-convert.json" "$R/$x-uptrain.json" "$n" "$FUSION" "$((TOTAL - FUSION))" "$((t1 - t0))" "$((t2 - t1))" "$TAG" "$FUSION_FLAGS" <<'PY'
import json, sys
conv, up = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["uptrain"]
n, fusion, rest, tc, tu, tag, flags = sys.argv[3:10]
p = up["perplexity"]
key = next(iter(p["after"]))
def find(d, k):
    if isinstance(d, dict):
        if k in d: return d[k]
        for v in d.values():
            r = find(v, k)
            if r is not None: return r
    return None
label = f"DHA kv {n}" + (f" [{tag}]" if tag else "") + (f" ({flags.strip()})" if flags.strip() else "")
print(f"{label}: fusion {fusion} tokens ({tc} s, convert included), uptrain {rest} tokens ({tu} s): moby after collapse "
      f"{p['before'][key]:.3f}, after uptrain {p['after'][key]:.3f} (teacher {p.get('teacher', {}).get(key, float('nan')):.3f})")
print(f"  k heads per layer {find(conv, 'k_heads')}, v heads per layer {find(conv, 'v_heads')}")
f = find(conv, "learned_fusion") or {}
print("  fusion settings: " + ", ".join(f"{k} {f.get(k)}" for k in ("seq", "batch", "lr", "operator_lr", "rho", "multiplier_every", "steps")))
PY
done
