package io.headfuse.uptrain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * The training objectives, from logits [B, T, V] in fp32:
 * <ul>
 *   <li>KL(teacher || student) = sum_v p_t(v) (log p_t(v) - log p_s(v)) per position, averaged over every position
 *       (torch's {@code kl_div(..., log_target=True, reduction="batchmean")} over [B*T, V], as distill_ref.py
 *       does), from log-softmax on both sides, at temperature T and scaled by T^2 (Hinton et al.), so gradients keep
 *       their size whatever T is;</li>
 *   <li>next-token cross-entropy of the student on the data, averaged over the B*(T-1) predicted tokens;</li>
 *   <li>their weighted sum.</li>
 * </ul>
 */
public final class DistillLoss {
    private DistillLoss() {}

    static NDArray of(UptrainRecipe r, NDArray studentLogits, NDArray teacherLogits, NDArray ids) {
        return switch (r.loss()) {
            case KL -> kl(studentLogits, teacherLogits, r.temperature());
            case CE -> crossEntropy(studentLogits, ids);
            case KL_CE -> kl(studentLogits, teacherLogits, r.temperature()).add(crossEntropy(studentLogits, ids).mul((float) r.ceWeight()));
        };
    }

    /** Mean over positions of KL(teacher || student) from logits [..., V], at {@code temperature}, times its square. */
    public static NDArray kl(NDArray student, NDArray teacher, double temperature) {
        float t = (float) temperature;
        NDArray lpS = (t == 1f ? student : student.div(t)).logSoftmax(-1);
        NDArray lpT = (t == 1f ? teacher : teacher.div(t)).logSoftmax(-1);
        long positions = student.getShape().size() / student.getShape().getLastDimension();
        return lpT.exp().mul(lpT.sub(lpS)).sum().mul(t * t / (float) positions);
    }

    static NDArray crossEntropy(NDArray student, NDArray ids) {
        NDArray lp = student.get(new NDIndex(":, :-1")).logSoftmax(-1);
        NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(-1);
        return lp.gather(targets, 2).mean().neg();
    }
}
