// headfuse's fused kernels for DJL's PyTorch engine: the few libtorch operators that DJL's JNI does not expose and
// that decide training and evaluation speed on a GPU (FusedKernels.java says which and why). Each function takes
// and returns DJL tensor handles: a DJL handle is a heap-allocated at::Tensor (DJL's JNI does
// `new torch::Tensor(...)` and DJL frees it with `delete` when the NDArray closes), so results are handed over the
// same way and DJL owns them. Functions run on the calling thread, so libtorch's thread-local autograd state (DJL's
// GradientCollector) applies: results of sdpa/rms_norm/silu_mul carry autograd history like DJL's own operators.
//
// C ABI, called from Java through the FFM API: no JNI class names to keep in step. A failure returns 0 (or -1) and
// leaves its message for hf_last_error().
//
// Build against the libtorch that DJL loads (ABI and version must match exactly; bench/gpu-env.sh does it):
//   g++ -O2 -std=c++17 -shared -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -DHF_TORCH_VERSION='"2.11.0"' \
//       -I TORCH/include headfuse_torch.cpp -L TORCH/lib -ltorch -ltorch_cpu -lc10 -o libheadfuse_torch.so
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#ifndef HF_TORCH_VERSION
#error "define HF_TORCH_VERSION: the libtorch version this library is built against"
#endif

namespace {
thread_local std::string last_error;

at::Tensor& tensor(int64_t handle) { return *reinterpret_cast<at::Tensor*>(handle); }

int64_t handOver(at::Tensor t) { return reinterpret_cast<int64_t>(new at::Tensor(std::move(t))); }

// The math of each fused operator, shared by its own entry point and by hf_decode_layer (so both paths round alike).

at::Tensor rmsNormOf(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return at::rms_norm(x, {x.size(-1)}, weight, eps);
}

at::Tensor siluMulOf(const at::Tensor& gate, const at::Tensor& up) { return at::silu(gate) * up; }

// x W^T (+ bias); an fp16 W is read as fp16 (see hf_linear_half), an fp32 one as DJL's Linear does (one addmm).
at::Tensor linearOf(const at::Tensor& x, const at::Tensor& w, const at::Tensor* bias) {
  if (w.scalar_type() == x.scalar_type()) return bias ? at::linear(x, w, *bias) : at::linear(x, w);
  at::Tensor y = at::linear(x.to(w.scalar_type()), w).to(x.scalar_type());
  return bias ? y + *bias : y;
}

at::Tensor ropeOf(const at::Tensor& in, const at::Tensor& cos, const at::Tensor& sin, int64_t start) {
  int64_t t = in.size(-2), half = in.size(-1) / 2;
  at::Tensor c = cos.narrow(0, start, t);
  at::Tensor s = sin.narrow(0, start, t);
  at::Tensor rotated = at::cat({-in.narrow(-1, half, half), in.narrow(-1, 0, half)}, -1);
  return in * c + rotated * s;
}

at::Tensor groupedAttentionOf(const at::Tensor& query, const at::Tensor& keys, const at::Tensor& values, const at::Tensor* mask,
                              double scale) {
  int64_t b = query.size(0), h = query.size(1), t = query.size(2), d = query.size(3);
  int64_t kv = keys.size(1), s = keys.size(2), g = h / kv;
  TORCH_CHECK(kv * g == h, "query heads ", h, " are not a multiple of kv heads ", kv);
  at::Tensor scores = at::matmul((query * scale).reshape({b, kv, g * t, d}), keys.transpose(2, 3));
  if (mask) scores = (scores.view({b, kv, g, t, s}) + *mask).view({b, kv, g * t, s});
  at::Tensor out = at::matmul(at::softmax(scores, -1), values);
  return out.view({b, h, t, d});
}

template <typename F>
int64_t guarded(F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    last_error = e.what();
    return 0;
  } catch (...) {
    last_error = "unknown C++ exception";
    return 0;
  }
}
}  // namespace

extern "C" {

// The libtorch version the library was compiled for; Java refuses the library when DJL loaded another one.
const char* hf_torch_version() { return HF_TORCH_VERSION; }

const char* hf_last_error() { return last_error.c_str(); }

// Causal (or full) attention of q [B, H, T, d] over k, v [B, H, S, d], softmax scale `scale`: one fused
// kernel (memory-efficient attention for fp32) instead of materialising the [B, H, T, S] scores.
int64_t hf_sdpa(int64_t q, int64_t k, int64_t v, int32_t causal, double scale) {
  return guarded([&] {
    return handOver(at::scaled_dot_product_attention(tensor(q), tensor(k), tensor(v), std::nullopt, 0.0, causal != 0, scale));
  });
}

// Attention of q [B, H, T, d] over keys and values of kv contiguous groups, k, v [B, kv, S, d] (H = kv * g, query
// head i reads kv head i / g), with an optional additive mask [T, S] (0: none; one query row needs none). The g
// query heads of a kv head are stacked into one [g*T, d] block, so each kv head's keys and values are read once:
// the decode path, where the cache is read every step and a per-query-head copy of it would undo GQA's saving.
int64_t hf_grouped_attention(int64_t q, int64_t k, int64_t v, int64_t mask, double scale) {
  return guarded([&] {
    return handOver(groupedAttentionOf(tensor(q), tensor(k), tensor(v), mask != 0 ? &tensor(mask) : nullptr, scale));
  });
}

// Rotary embedding in HF's rotate-half layout of x [..., T, d] at positions start .. start+T-1, from the cos and
// sin tables [positions, d]: x * cos + cat(-x2, x1) * sin.
int64_t hf_rope(int64_t x, int64_t cos, int64_t sin, int64_t start) {
  return guarded([&] { return handOver(ropeOf(tensor(x), tensor(cos), tensor(sin), start)); });
}

// y = x W^T (+ bias) for fp32 x and a frozen fp16 weight W, without widening W: x is rounded to fp16 (the 10-bit
// mantissa TF32 also keeps), the product accumulates in fp32 (cuBLAS), y comes back as fp32. Half the weight
// bytes of an fp32 matmul, and no fp32 copy of W: for inference, where reading the weights is most of a decode step.
int64_t hf_linear_half(int64_t x, int64_t weight, int64_t bias) {
  return guarded([&] { return handOver(linearOf(tensor(x), tensor(weight), bias != 0 ? &tensor(bias) : nullptr)); });
}

// HF LlamaRMSNorm: x * rsqrt(mean(x^2, -1) + eps) * weight.
int64_t hf_rms_norm(int64_t x, int64_t weight, double eps) {
  return guarded([&] { return handOver(rmsNormOf(tensor(x), tensor(weight), eps)); });
}

// SwiGLU's gate: silu(gate) * up.
int64_t hf_silu_mul(int64_t gate, int64_t up) {
  return guarded([&] { return handOver(siluMulOf(tensor(gate), tensor(up))); });
}

// One decoder layer of a decode step, inference only: x [B, 1, hidden] at position `pos`, the layer's 16 weight
// handles in LayerWeights' order (input_norm, q, k, v, o, q/k/v/o biases, post_norm, gate, up, down, gate/up/down
// biases; 0 for an absent bias), the layer's cache buffers [B, kv, capacity, d] (this step's keys and values are
// written at `pos`, attention reads positions 0..pos) and the RoPE tables. kv heads read in contiguous groups (GQA,
// MQA, MHA). The same operators, in the same order, as LlamaModel's layer on the fused kernels, but one FFM call per
// layer instead of about thirty DJL and FFM calls, which at batch 16 were a large part of a 7B GQA model's step (kv 8
// decoded 11% faster with this alone, and it is what lets fp16 weights pay).
//
// Attention stacks each kv head's query heads and multiplies (groupedAttentionOf). Handing the same stack to
// scaled_dot_product_attention as g query rows of one head was tried on the 7B benchmark and was slower (MHA 253
// against 428 tokens/s): its kernel does not split the long cache across blocks.
int64_t hf_decode_layer(int64_t x, const int64_t* w, int64_t kcache, int64_t vcache, int64_t pos, int64_t cos, int64_t sin,
                        int32_t heads, double eps, double scale) {
  return guarded([&] {
    c10::NoGradGuard no_grad;
    auto opt = [&](int i) -> const at::Tensor* { return w[i] != 0 ? &tensor(w[i]) : nullptr; };
    const at::Tensor& in = tensor(x);
    at::Tensor& kc = tensor(kcache);
    at::Tensor& vc = tensor(vcache);
    int64_t b = in.size(0), kv = kc.size(1), d = kc.size(3);
    TORCH_CHECK(in.dim() == 3 && in.size(1) == 1, "hf_decode_layer takes one position, x [B, 1, hidden]");
    TORCH_CHECK(pos < kc.size(2), "position ", pos, " is past the cache's capacity ", kc.size(2));
    at::Tensor h = rmsNormOf(in, tensor(w[0]), eps);
    at::Tensor q = linearOf(h, tensor(w[1]), opt(5)).view({b, 1, heads, d}).transpose(1, 2);
    at::Tensor k = linearOf(h, tensor(w[2]), opt(6)).view({b, 1, kv, d}).transpose(1, 2);
    at::Tensor v = linearOf(h, tensor(w[3]), opt(7)).view({b, 1, kv, d}).transpose(1, 2);
    q = ropeOf(q, tensor(cos), tensor(sin), pos);
    k = ropeOf(k, tensor(cos), tensor(sin), pos);
    kc.narrow(2, pos, 1).copy_(k);
    vc.narrow(2, pos, 1).copy_(v);
    at::Tensor attn = groupedAttentionOf(q, kc.narrow(2, 0, pos + 1), vc.narrow(2, 0, pos + 1), nullptr, scale);
    at::Tensor out = in + linearOf(attn.transpose(1, 2).reshape({b, 1, heads * d}), tensor(w[4]), opt(8));
    at::Tensor h2 = rmsNormOf(out, tensor(w[9]), eps);
    at::Tensor act = siluMulOf(linearOf(h2, tensor(w[10]), opt(13)), linearOf(h2, tensor(w[11]), opt(14)));
    return handOver(out + linearOf(act, tensor(w[12]), opt(15)));
  });
}

// One optimiser step over n parameters (their .grad() summed by backward):
//   1. the global L2 norm of all gradients (torch.nn.utils.clip_grad_norm_ with foreach), and every gradient
//      scaled by min(1, max_norm / (norm + 1e-6)) when max_norm > 0;
//   2. torch.optim.AdamW(fused=True): per distinct learning rate, one _fused_adamw_ call at step `step`
//      (1-based; the bias corrections read it);
//   3. the gradients zeroed (zero_grad without set_to_none).
// Returns the norm before clipping as a new 0-d tensor handle (0 on failure). No autograd history is recorded.
int64_t hf_clip_adamw(const int64_t* params, const int64_t* exp_avgs, const int64_t* exp_avg_sqs, const double* lrs,
                      int32_t n, double max_norm, int64_t step, double beta1, double beta2, double eps,
                      double weight_decay) {
  return guarded([&] {
    c10::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    grads.reserve(n);
    for (int32_t i = 0; i < n; i++) {
      at::Tensor g = tensor(params[i]).grad();
      TORCH_CHECK(g.defined(), "parameter ", i, " has no gradient");
      grads.push_back(g);
    }
    std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
    at::Tensor total = at::linalg_vector_norm(at::stack(norms), 2);
    if (max_norm > 0) at::_foreach_mul_(grads, at::clamp_max(at::reciprocal(total + 1e-6) * max_norm, 1.0));
    std::map<double, std::vector<int32_t>> groups;
    for (int32_t i = 0; i < n; i++) groups[lrs[i]].push_back(i);
    at::Tensor steps = at::scalar_tensor(static_cast<double>(step), tensor(params[0]).options().dtype(at::kFloat));
    for (const auto& [lr, members] : groups) {
      std::vector<at::Tensor> p, g, m, v, s;
      for (int32_t i : members) {
        p.push_back(tensor(params[i]));
        g.push_back(grads[i]);
        m.push_back(tensor(exp_avgs[i]));
        v.push_back(tensor(exp_avg_sqs[i]));
        s.push_back(steps);
      }
      at::_fused_adamw_(p, g, m, v, at::TensorList(), s, lr, beta1, beta2, weight_decay, eps, false, false);
    }
    at::_foreach_zero_(grads);
    return handOver(total);
  });
}

}  // extern "C"
