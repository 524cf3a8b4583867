#!/usr/bin/env python3
"""transformers' generate on a checkpoint, the peer of `headfuse bench-decode`: BATCH sequences of CONTEXT tokens
(random ids, seeded; the same draw for every model), greedy, NEW tokens each, with transformers' default KV
cache. Prefill time is a generate of one token (the prompt's forward pass and its first token); decode time is a
generate of NEW tokens minus that, over NEW - 1 steps, as headfuse counts them. Prints one JSON line with
prefill/decode tokens/s, the KV-cache bytes computed from the config at the run's dtype and as held by the cache
after the prefill (the past_key_values tensors' bytes), and the peak of torch's allocator.

usage: hf_decode.py MODEL_DIR [--batch 16] [--context 4096] [--new 128] [--dtype bf16|fp32] [--tf32] [--seed 0]
"""
import argparse, json, time
import torch
from transformers import AutoConfig, AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--context", type=int, default=4096)
ap.add_argument("--new", type=int, default=128)
ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
ap.add_argument("--tf32", action="store_true")
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
torch.backends.cuda.matmul.allow_tf32 = a.tf32
dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
cfg = AutoConfig.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype).to("cuda").eval()
g = torch.Generator().manual_seed(a.seed)
ids = torch.randint(0, cfg.vocab_size, (a.batch, a.context), generator=g).to("cuda")
mask = torch.ones_like(ids)

def gen(n):
    torch.cuda.synchronize(); t = time.time()
    with torch.no_grad():
        out = model.generate(ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
    torch.cuda.synchronize()
    return time.time() - t, out

gen(2)                                   # warm-up: CUDA context, cuBLAS handles, kernels
torch.cuda.reset_peak_memory_stats()
t1, _ = gen(1)
tn, out = gen(a.new)

def cache_bytes(pkv):
    # DynamicCache changed shape across transformers versions: .layers (5.x), key_cache/value_cache (4.x), tuples (older)
    if hasattr(pkv, "layers"):
        return sum(l.keys.numel() * l.keys.element_size() + l.values.numel() * l.values.element_size() for l in pkv.layers)
    if hasattr(pkv, "key_cache"):
        return sum(t.numel() * t.element_size() for t in list(pkv.key_cache) + list(pkv.value_cache))
    return sum(t.numel() * t.element_size() for layer in pkv for t in layer)

with torch.no_grad():
    per8 = cache_bytes(model(ids[:, :8], use_cache=True).past_key_values)   # all B sequences, 8 positions
head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
elem = 2 if a.dtype == "bf16" else 4
computed = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * elem * a.batch * (a.context + a.new)
print(json.dumps({"model": a.model, "dtype": a.dtype, "tf32": a.tf32, "batch": a.batch, "context": a.context, "new_tokens": a.new,
                  "prefill_tokens_per_s": a.batch * a.context / t1, "decode_tokens_per_s": a.batch * (a.new - 1) / (tn - t1),
                  "prefill_s": t1, "decode_s": tn - t1, "kv_bytes_computed": computed,
                  "kv_bytes_measured": per8 // 8 * (a.context + a.new),
                  "kv_measured_by": "past_key_values bytes of an 8-token prefix, scaled to context + new",
                  "peak_device_bytes": torch.cuda.max_memory_allocated(), "generated": int(out.shape[1] - a.context)}))
