#!/usr/bin/env python3
"""Runs ../shared/tools/hf_ppl.py (transformers' perplexity, the peer of `headfuse eval`) on a file's validation
slice instead of its head, so that both measure the same tokens as `headfuse eval --from F`: the text is tokenized
whole (one BOS), the tokens from int(F * n) on are kept, and one BOS is put in front (../shared/assets/README.md).
hf_ppl.py itself is run unchanged; only its tokenizer call is wrapped to return the slice.

usage: hf_ppl_slice.py HF_PPL_PY --from F MODEL_DIR TEXT_FILE [hf_ppl.py options: --window, --dtype, --tf32, ...]
"""
import runpy, sys
from transformers import PreTrainedTokenizerFast

tool, args = sys.argv[1], sys.argv[2:]
if "--from" not in args:
    sys.exit("usage: hf_ppl_slice.py HF_PPL_PY --from F MODEL_DIR TEXT_FILE [hf_ppl.py options]")
i = args.index("--from")
frac = float(args[i + 1])
del args[i:i + 2]
whole = PreTrainedTokenizerFast.__call__

def validation_slice(self, text, *a, **kw):
    ids = whole(self, text, *a, **kw)["input_ids"]
    return {"input_ids": [ids[0]] + ids[int(frac * len(ids)):]}   # ids[0] is the tokenizer's one BOS

PreTrainedTokenizerFast.__call__ = validation_slice
sys.argv = [tool] + args
runpy.run_path(tool, run_name="__main__")
