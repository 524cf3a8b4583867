#!/usr/bin/env bash
# The CPU check of issue 9 on headfuse-mha-s at 2 kv heads (the KV bytes of uniform GQA 8/2), the same 65,536
# training tokens for both, the same recipe (--seq 512 --batch 4 --lr 3e-4) and the same eval:
#   DHA:  convert --strategy dha --kv-heads 2 with 32,768 tokens of learned fusion, then uptrain 32,768 tokens;
#   asym: convert --strategy asym --kv-heads 2 (defaults: --align --lsq --coupled), then uptrain 65,536 tokens.
# Prints each stage's time and, per validation slice (the last 2% of each of the four texts, window 512), the
# perplexity of both zero-shot students, both uptrained ones, and the teacher. Everything is written into a
# temporary folder that is removed at the end.
#   usage: bench/dha-cpu.sh [ASSETS]     (default ../shared/assets; DHA_PNG=FILE keeps the run's dha.png there)
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:-../shared/assets}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
./headfuse --version > /dev/null    # builds on first use, outside the timed part
CALIB="$A/text/sotu/sotu-1790-2021.txt"
TEXTS="$A/text/sotu/sotu-1790-2021.txt $A/text/brown/brown-plain.txt $A/text/moby-dick/moby-dick.txt $A/text/tinyshakespeare/tinyshakespeare.txt"
RECIPE="--seq 512 --batch 4 --lr 3e-4 --device cpu"
/usr/bin/time -f "dha convert (allocation + 32,768 fusion tokens + collapse): %e s wall, %M KiB peak RSS" ./headfuse convert \
  --model "$A/models/headfuse-mha-s" --kv-heads 2 --strategy dha --calib "$CALIB" --data $TEXTS --tokens 32768 --out "$T/dha2" > /dev/null
if [ -n "${DHA_PNG:-}" ]; then cp "$T/dha2/dha.png" "$DHA_PNG"; fi
/usr/bin/time -f "dha uptrain (32,768 tokens): %e s wall, %M KiB peak RSS" ./headfuse uptrain --teacher "$A/models/headfuse-mha-s" \
  --student "$T/dha2" --data $TEXTS --out "$T/dha2-up" --tokens 32768 $RECIPE > /dev/null
/usr/bin/time -f "asym convert: %e s wall, %M KiB peak RSS" ./headfuse convert --model "$A/models/headfuse-mha-s" --kv-heads 2 \
  --strategy asym --calib "$CALIB" --out "$T/asym2" > /dev/null
/usr/bin/time -f "asym uptrain (65,536 tokens): %e s wall, %M KiB peak RSS" ./headfuse uptrain --teacher "$A/models/headfuse-mha-s" \
  --student "$T/asym2" --data $TEXTS --out "$T/asym2-up" --tokens 65536 $RECIPE > /dev/null
python3 - "$T" "$A/models/headfuse-mha-s" $TEXTS <<'PY'
import json, subprocess, sys, os
t, teacher, texts = sys.argv[1], sys.argv[2], sys.argv[3:]
models = [("asym kv2 zero-shot", f"{t}/asym2"), ("asym kv2 + 65,536 uptrain", f"{t}/asym2-up"),
          ("dha kv2 fused (32,768)", f"{t}/dha2"), ("dha kv2 fused + 32,768 uptrain", f"{t}/dha2-up"), ("teacher", teacher)]
def ppl(model, text):
    out = f"{t}/eval.json"
    subprocess.run(["./headfuse", "eval", "--model", model, "--data", text, "--from", "0.98", "--window", "512", "--json", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.load(open(out))["ppl"]
names = [os.path.basename(x).split("-")[0].split(".")[0] for x in texts]
print("| model | " + " | ".join(names) + " |")
print("| --- |" + " ---: |" * len(names))
rows = {}
for label, m in models:
    rows[label] = [ppl(m, x) for x in texts]
    print(f"| {label} | " + " | ".join(f"{p:.2f}" for p in rows[label]) + " |", flush=True)
d, a = rows["dha kv2 fused + 32,768 uptrain"], rows["asym kv2 + 65,536 uptrain"]
print("dha beats asym+uptrain on every slice" if all(x < y for x, y in zip(d, a)) else "dha does NOT beat asym+uptrain on every slice")
PY
