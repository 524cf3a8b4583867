#!/usr/bin/env bash
# DHA against GQA at equal KV budget and equal tokens on the GPU machine (issue 9), headfuse-mha-m: for each N in
# KV (default "2 4"), `convert --strategy dha --kv-heads N` (allocation from 65,536 sotu calibration tokens, learned
# fusion on FUSION tokens of the four training texts, collapse), then `uptrain` for the rest of the 0.4M-token
# budget with headfuse's default recipe; the moby-dick validation perplexity (window 1024) after each stage, the
# per-layer K/V budgets chosen, and each stage's time. Run it in a device call after `. bench/gpu-env.sh`
# (docs/gpu.md): it expects $HEADFUSE and $HF_DIR with headfuse-mha-m and text/.
#   KV="2 4" FUSION=200000 TOTAL=400000 SEED=0 bench/gpu-dha.sh
# Writes logs and JSON to $OUT (device) or ./gpu-dha-out; prints every figure it reports.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${HEADFUSE:?source bench/gpu-env.sh first}" "${HF_DIR:?source bench/gpu-env.sh first}"
KV=${KV:-2 4}; FUSION=${FUSION:-200000}; TOTAL=${TOTAL:-400000}; SEED=${SEED:-0}
R=${OUT:-$PWD/gpu-dha-out}; mkdir -p "$R"
W=$HF_DIR/work-dha; mkdir -p "$W"
M=$HF_DIR/headfuse-mha-m; T=$HF_DIR/text
DATA="$T/sotu-1790-2021.txt $T/brown-plain.txt $T/moby-dick.txt $T/tinyshakespeare.txt"
for n in $KV; do
  t0=$SECONDS
  $HEADFUSE convert --model "$M" --out "$W/dha$n" --force --kv-heads "$n" --strategy dha --calib "$T/sotu-1790-2021.txt" \
    --calib-tokens 65536 --calib-device gpu --data $DATA --tokens "$FUSION" --device gpu > "$R/convert-dha$n.log" 2>&1 \
    || { echo "convert dha$n failed:"; tail -5 "$R/convert-dha$n.log"; continue; }
  t1=$SECONDS
  $HEADFUSE uptrain --teacher "$M" --student "$W/dha$n" --data $DATA --eval "$T/moby-dick.txt" --out "$W/dha$n-up" --force \
    --tokens $((TOTAL - FUSION)) --seq 1024 --seed "$SEED" --device gpu --dtype bf16 > "$R/uptrain-dha$n.log" 2>&1 \
    || { echo "uptrain dha$n failed:"; tail -5 "$R/uptrain-dha$n.log"; continue; }
  t2=$SECONDS
  cp "$W/dha$n/headfuse.json" "$R/dha$n-convert.json"; cp "$W/dha$n-up/headfuse.json" "$R/dha$n-uptrain.json"
  cp "$W/dha$n/dha.png" "$R/dha$n.png" 2>/dev/null
  python3 - "$R/dha$n-convert.json" "$R/dha$n-uptrain.json" "$n" "$FUSION" "$((TOTAL - FUSION))" "$((t1 - t0))" "$((t2 - t1))" <<'PY'
import json, sys
conv, up = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["uptrain"]
n, fusion, rest, tc, tu = sys.argv[3:8]
p = up["perplexity"]
key = next(iter(p["after"]))
def find(d, k):
    if isinstance(d, dict):
        if k in d: return d[k]
        for v in d.values():
            r = find(v, k)
            if r is not None: return r
    return None
print(f"DHA kv {n}: fusion {fusion} tokens ({tc} s, convert included), uptrain {rest} tokens ({tu} s): moby after collapse "
      f"{p['before'][key]:.3f}, after uptrain {p['after'][key]:.3f} (teacher {p.get('teacher', {}).get(key, float('nan')):.3f})")
print(f"  k heads per layer {find(conv, 'k_heads')}, v heads per layer {find(conv, 'v_heads')}")
PY
done
