#!/usr/bin/env bash
# Decode benchmark on a GPU machine (issue 10): the synthetic Llama-2-7B-shaped checkpoint (bench/SyntheticCheckpoint:
# 32 layers, 32 heads of 128, bf16) and its mean-pooled 8-kv-head conversion, through `headfuse bench-decode` and
# transformers' generate (bench/hf_decode.py, bf16 and fp32+TF32) at the same shapes, all in one run. Prints every
# result line, then the ratios: kv 8 vs MHA (KV bytes, decode tokens/s) for each runtime, and headfuse vs transformers.
#
# Needs: a Java 25 runtime, DJL pointed at the machine's libtorch (docs/gpu.md), python3 with torch + transformers,
# the headfuse jars, ~30 GB of disk under WORK and ~110 GB of GPU memory (fp32 weights + the MHA model's fp32 cache).
#   usage: bench/gpu-decode-7b.sh [BATCH] [CONTEXT] [NEW]        (defaults 16 4096 128; SMALL=1: 4 layers)
#   HEADFUSE="java -cp 'lib/*' io.headfuse.converter.cli.Main"  how to start headfuse (default ./headfuse)
#   HEADFUSE_CP=...   class path holding headfuse-formats and its dependencies, for bench/SyntheticCheckpoint.java
#   SYNTH_ARGS="layers hidden heads intermediate vocab": other shapes; DEVICE=cpu and SKIP_TRANSFORMERS=1 try the
#   headfuse half on a CPU
#   WORK_DIR=DIR      work there and keep it (checkpoints, results), so the run can be split over two calls under a
#                     time limit: PHASE=headfuse (generate, convert, headfuse), then PHASE=transformers (+ summary)
#   HF_DTYPES="bf16 fp32"  which transformers runs (fp32 runs with TF32 on)
#   DECODE_FLAGS=...  flags for headfuse bench-decode (default --fp16-weights: frozen weights read as fp16, which
#                     halves the weight bytes every step reads; DECODE_FLAGS= runs fp32 weights)
#   RESULTS=DIR       also keep headfuse's JSON and PNG and transformers' JSON lines there
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-16}; T=${2:-4096}; N=${3:-128}
HEADFUSE=${HEADFUSE:-./headfuse}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
CP=${HEADFUSE_CP:-formats/target/headfuse-formats-0.1.0-SNAPSHOT.jar:$(cat converter/target/classpath.txt 2>/dev/null || true)}
export HEADFUSE_HEAP=${HEADFUSE_HEAP:-16g} HEADFUSE_NO_BUILD=1
if [ -n "${WORK_DIR:-}" ]; then WORK=$WORK_DIR; mkdir -p "$WORK"
else WORK=$(mktemp -d "${TMPDIR:-/tmp}/headfuse-decode.XXXXXX"); trap 'rm -rf "$WORK"' EXIT; fi
PHASE=${PHASE:-all}
if [ "${SMALL:-0}" = 1 ]; then ARGS="4 4096 32 11008 32000"; else ARGS="${SYNTH_ARGS:-}"; fi
DEVICE=${DEVICE:-gpu}
[ -f "$WORK/kv8/config.json" ] || {
  ${SYNTH:-"$JAVA" -cp "$CP" bench/SyntheticCheckpoint.java} "$WORK/mha" $ARGS
  eval "$HEADFUSE" convert --model "$WORK/mha" --out "$WORK/kv8" --kv-heads 8 --strategy mean >/dev/null
}
[ "$PHASE" = transformers ] || eval "$HEADFUSE" bench-decode --model "$WORK/mha" --model "$WORK/kv8" --batch "$B" --context "$T" --new "$N" --device "$DEVICE" \
  --json "$WORK/headfuse.json" --png "$WORK/bench-decode-7b.png" ${DECODE_FLAGS---fp16-weights}
[ "$PHASE" = headfuse ] && exit 0
touch "$WORK/transformers.jsonl"
for m in $([ "${SKIP_TRANSFORMERS:-0}" = 1 ] || echo mha kv8); do
  for d in ${HF_DTYPES:-bf16 fp32}; do
    [ "$d" = fp32 ] && d="fp32 --tf32"
    # expandable segments: the default cache grows by torch.cat every step, and without them the fp32 MHA run
    # (27 GB of weights, 66 GiB of cache) ran out of the H200's memory with 50 GiB reserved but unallocated.
    PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True python3 bench/hf_decode.py "$WORK/$m" --batch "$B" --context "$T" --new "$N" --dtype $d | tee -a "$WORK/transformers.jsonl"
  done
done
python3 - "$WORK/headfuse.json" "$WORK/transformers.jsonl" "${DECODE_FLAGS---fp16-weights}" <<'PY'
import json, sys
hf = json.load(open(sys.argv[1]))["models"]
tr = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
mha, kv8 = hf[0], hf[1]
flags = sys.argv[3] or "fp32 weights"
print(f"headfuse ({flags}): kv 8 / MHA: KV bytes {kv8['kv_bytes_computed'] / mha['kv_bytes_computed']:.4f} computed, "
      f"{kv8['kv_bytes_measured'] / mha['kv_bytes_measured']:.4f} measured ({kv8['kv_measured_by']}); "
      f"decode {kv8['decode_tokens_per_s'] / mha['decode_tokens_per_s']:.2f}x (target >= 2), prefill {kv8['prefill_tokens_per_s'] / mha['prefill_tokens_per_s']:.2f}x")
for dt in ("bf16", "fp32"):
    a = [r for r in tr if r["dtype"] == dt]
    if len(a) != 2: continue
    print(f"transformers {dt}{'+TF32' if a[0]['tf32'] else ''}: kv 8 / MHA: KV bytes {a[1]['kv_bytes_computed'] / a[0]['kv_bytes_computed']:.4f}, "
          f"decode {a[1]['decode_tokens_per_s'] / a[0]['decode_tokens_per_s']:.2f}x, prefill {a[1]['prefill_tokens_per_s'] / a[0]['prefill_tokens_per_s']:.2f}x")
    for h, t, name in ((mha, a[0], "MHA"), (kv8, a[1], "kv 8")):
        print(f"  {name}: headfuse / transformers {dt}: decode {h['decode_tokens_per_s'] / t['decode_tokens_per_s']:.2f}x "
              f"({h['decode_tokens_per_s']:.0f} vs {t['decode_tokens_per_s']:.0f} tok/s), prefill {h['prefill_tokens_per_s'] / t['prefill_tokens_per_s']:.2f}x, "
              f"peak memory {h['peak_device_bytes'] and h['peak_device_bytes'] / 2**30 or float('nan'):.1f} vs {t['peak_device_bytes'] / 2**30:.1f} GiB")
PY
if [ -n "${RESULTS:-}" ]; then mkdir -p "$RESULTS"; cp "$WORK"/headfuse.json "$WORK"/bench-decode-7b.png "$WORK"/transformers.jsonl "$RESULTS"/; fi
