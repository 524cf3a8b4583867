#!/usr/bin/env bash
# The CPU check of issue 8: headfuse-mha-s, asym kv 4 student, 65,536 training tokens, --seq 512 --batch 4
# --lr 3e-4 on this machine's cores; prints the time and, per validation slice (the last 2% of each of the four
# texts), the perplexity of the zero-shot student and of the uptrained one (window 512), and the teacher's.
# Everything is written into a temporary folder that is removed at the end.
#   usage: bench/uptrain-cpu.sh [ASSETS]     (default ../shared/assets)
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:-../shared/assets}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
./headfuse --version > /dev/null    # builds on first use, outside the timed part
TEXTS="$A/text/sotu/sotu-1790-2021.txt $A/text/brown/brown-plain.txt $A/text/moby-dick/moby-dick.txt $A/text/tinyshakespeare/tinyshakespeare.txt"
/usr/bin/time -f "convert: %e s wall, %M KiB peak RSS" ./headfuse convert --model "$A/models/headfuse-mha-s" --kv-heads 4 --strategy asym \
  --calib "$A/text/sotu/sotu-1790-2021.txt" --out "$T/asym4"
/usr/bin/time -f "uptrain: %e s wall, %M KiB peak RSS" ./headfuse uptrain --teacher "$A/models/headfuse-mha-s" --student "$T/asym4" \
  --data $TEXTS --out "$T/asym4-uptrained" --tokens 65536 --seq 512 --batch 4 --lr 3e-4 --device cpu
