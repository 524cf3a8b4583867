package io.headfuse.uptrain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.headfuse.uptrain.model.LlamaModel;

/** Next-token log-probabilities of one window, on the device. */
final class TokenScores {
    private TokenScores() {}

    /** fp32 log-softmax [T-1, vocab] of the predictions for tokens 1..T-1 of {@code ids}, attached to {@code m}. */
    static NDArray logProbs(LlamaModel model, int[] ids, NDManager m) {
        NDArray logits = model.forward(LlamaModel.tokens(m, ids));                   // [1, T, V]
        return logits.get(new NDIndex("0, :" + (ids.length - 1))).logSoftmax(-1);
    }

    /** The targets of a window, int64 [T-1, 1]. */
    static NDArray targets(int[] ids, NDManager m) {
        long[] t = new long[ids.length - 1];
        for (int i = 1; i < ids.length; i++) t[i - 1] = ids[i];
        return m.create(t, new Shape(t.length, 1));
    }

    /**
     * Per-token KL(teacher || student) = sum_v p_t(v) (log p_t(v) - log p_s(v)) of two [T, vocab] log-probability
     * tensors on the same device: the teacher's distribution weights the difference, as in distillation.
     */
    static float[] klTeacherStudent(NDArray teacherLogProbs, NDArray studentLogProbs) {
        return teacherLogProbs.exp().mul(teacherLogProbs.sub(studentLogProbs)).sum(new int[] {-1}).toFloatArray();
    }

    /** Summed NLL of the targets under {@code logProbs}, accumulated in double. */
    static double nll(NDArray logProbs, NDArray targets) {
        float[] lp = logProbs.gather(targets, 1).toFloatArray();
        double sum = 0;
        for (float v : lp) sum -= v;
        return sum;
    }
}
