#!/usr/bin/env python3
"""Perplexity with HF transformers at a batch of windows: the peer of `headfuse eval --batch B`. Same convention as
../shared/tools/hf_ppl.py (one tokenization with one BOS, disjoint windows of --window tokens, mean NLL over every
predicted token, fp32 log-softmax); windows of equal length are stacked --batch at a time and the short last
window runs alone, as headfuse does. Prints one JSON line: ppl, nll, tokens, seconds, tokens_per_s, peak_device_bytes.

usage: hf_ppl_batched.py MODEL_DIR TEXT_FILE [--batch 8] [--window 512] [--dtype bf16|fp32] [--tf32] [--max-tokens N]
"""
import argparse, json, math, time
import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

ap = argparse.ArgumentParser()
ap.add_argument("model"); ap.add_argument("text")
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--window", type=int, default=512)
ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
ap.add_argument("--tf32", action="store_true")
ap.add_argument("--max-tokens", type=int, default=0)
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
a = ap.parse_args()
torch.backends.cuda.matmul.allow_tf32 = a.tf32
tok = PreTrainedTokenizerFast(tokenizer_file=f"{a.model}/tokenizer.json")
ids = tok(open(a.text, encoding="utf-8").read())["input_ids"]
if a.max_tokens: ids = ids[: a.max_tokens]
ids = torch.tensor(ids)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16 if a.dtype == "bf16" else torch.float32).to(a.device).eval()
windows = [ids[i:i + a.window] for i in range(0, len(ids) - 1, a.window)]
windows = [w for w in windows if len(w) >= 2]
batches, cur = [], []
for w in windows:
    if cur and (len(cur) == a.batch or len(w) != len(cur[0])):
        batches.append(cur); cur = []
    cur.append(w)
if cur: batches.append(cur)
tot, n, processed = 0.0, 0, 0
if a.device == "cuda": torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
t0 = time.time()
with torch.no_grad():
    for b in batches:
        x = torch.stack(b).to(a.device)
        lp = torch.log_softmax(model(x).logits.float()[:, :-1], -1)
        tot += -lp.gather(2, x[:, 1:].unsqueeze(2)).sum().item()
        n += x.shape[0] * (x.shape[1] - 1); processed += x.numel()
if a.device == "cuda": torch.cuda.synchronize()
dt = time.time() - t0
peak = torch.cuda.max_memory_allocated() if a.device == "cuda" else None
print(json.dumps({"ppl": math.exp(tot / n), "nll": tot / n, "tokens": n, "seconds": dt, "tokens_per_s": processed / dt,
                  "dtype": a.dtype, "tf32": a.tf32, "window": a.window, "batch": a.batch, "peak_device_bytes": peak}))
