#!/usr/bin/env python3
"""Carry a converted student to the GPU machine as the few tensors it changed.

A device call carries 64 MiB at most, and a whole headfuse-mha-m student is 55 MB of bf16. A conversion only
rewrites attention projections (q/k/v/o_proj: pooling, alignment folds, query permutation), so the student is the
teacher plus those tensors. Pure Python (json + bytes), no torch needed on either side.

  student_patch.py split STUDENT_DIR TEACHER_DIR PATCH_DIR   # here: the tensors that differ + config + report
  student_patch.py join  PATCH_DIR TEACHER_DIR STUDENT_DIR   # there: teacher tensors with the patch laid over them

join writes one model.safetensors, copies the teacher's tokenizer and generation files, and the patch's
config.json / headfuse.json. split refuses a student whose other tensors differ from the teacher's.
"""
import json, os, shutil, struct, sys

def read_dir(d):
    """name -> (dtype, shape, bytes) over a folder's safetensors files."""
    out = {}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".safetensors"):
            continue
        with open(os.path.join(d, f), "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
            base = 8 + n
            for name, t in header.items():
                if name == "__metadata__":
                    continue
                a, b = t["data_offsets"]
                fh.seek(base + a)
                out[name] = (t["dtype"], t["shape"], fh.read(b - a))
    return out

def write_file(path, tensors):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)) + h)
        for name in sorted(tensors):
            fh.write(tensors[name][2])

def split(student, teacher, patch):
    s, t = read_dir(student), read_dir(teacher)
    changed = {k: v for k, v in s.items() if t.get(k) != v}
    odd = [k for k in changed if "self_attn" not in k]
    if odd or set(s) != set(t):
        sys.exit(f"{student}: differs from {teacher} outside attention ({odd[:3]}) or in tensor names: not a conversion of it")
    os.makedirs(patch, exist_ok=True)
    write_file(os.path.join(patch, "patch.safetensors"), changed)
    for f in ("config.json", "headfuse.json"):
        if os.path.exists(os.path.join(student, f)):
            shutil.copy(os.path.join(student, f), patch)
    print(f"{patch}: {len(changed)} of {len(s)} tensors, {sum(len(v[2]) for v in changed.values()) / 2**20:.1f} MiB")

def join(patch, teacher, student):
    t = read_dir(teacher)
    p = read_dir(patch)
    t.update(p)
    os.makedirs(student, exist_ok=True)
    write_file(os.path.join(student, "model.safetensors"), t)
    for f in os.listdir(teacher):
        if f.startswith("tokenizer") or f == "generation_config.json":
            shutil.copy(os.path.join(teacher, f), student)
    for f in ("config.json", "headfuse.json"):
        if os.path.exists(os.path.join(patch, f)):
            shutil.copy(os.path.join(patch, f), student)
    print(f"{student}: {len(t)} tensors ({len(p)} from the patch)")

if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("split", "join"):
        sys.exit(__doc__)
    (split if sys.argv[1] == "split" else join)(*sys.argv[2:])
