package io.headfuse.converter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.train.DistillLoss;
import io.headfuse.uptrain.train.NoGrad;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What collapsing the fused groups costs, measured on one batch: the distillation KL(teacher || model) of the fused
 * (still MHA) student and of the collapsed one, and how far the collapse moved the logits. When the fusion loss
 * has reached zero the collapse should be free; these numbers say whether it was.
 *
 * @param klFused     mean per-token KL(teacher || fused student)
 * @param klCollapsed mean per-token KL(teacher || collapsed student)
 * @param maxLogitChange  largest |collapsed - fused| logit
 * @param meanLogitChange mean |collapsed - fused| logit
 */
public record CollapseCheck(double klFused, double klCollapsed, double maxLogitChange, double meanLogitChange) {
    /** Runs the three models on {@code ids} ([batch, seq] int64) without gradients. */
    public static CollapseCheck measure(LlamaModel teacher, LlamaModel fused, LlamaModel collapsed, NDArray ids) {
        try (NoGrad off = new NoGrad(); NDManager m = fused.manager().newSubManager()) {
            NDArray t = teacher.forward(ids), f = fused.forward(ids), c = collapsed.forward(ids);
            t.attach(m);
            f.attach(m);
            c.attach(m);
            NDArray diff = c.sub(f).abs();
            return new CollapseCheck(DistillLoss.kl(f, t, 1).getFloat(), DistillLoss.kl(c, t, 1).getFloat(), diff.max().getFloat(),
                    diff.mean().getFloat());
        }
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kl_fused", klFused);
        m.put("kl_collapsed", klCollapsed);
        m.put("max_logit_change", maxLogitChange);
        m.put("mean_logit_change", meanLogitChange);
        return m;
    }
}
