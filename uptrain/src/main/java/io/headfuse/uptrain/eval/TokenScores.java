package io.headfuse.uptrain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.headfuse.uptrain.model.LlamaModel;
import java.util.List;

/** Next-token log-probabilities of a batch of equal-length windows, on the device. */
final class TokenScores {
    private TokenScores() {}

    /** The windows' ids stacked as int64 [B, T] in {@code m}. */
    static NDArray tokens(List<int[]> windows, NDManager m) {
        int t = windows.get(0).length;
        long[] flat = new long[windows.size() * t];
        for (int b = 0; b < windows.size(); b++) {
            int[] ids = windows.get(b);
            if (ids.length != t) throw new IllegalArgumentException("a batch needs windows of one length, got " + t + " and " + ids.length);
            for (int i = 0; i < t; i++) flat[b * t + i] = ids[i];
        }
        return m.create(flat, new Shape(windows.size(), t));
    }

    /** A whole token stream as int64 [L] in {@code m} (on its device): uploaded once, windows are cut from it. */
    static NDArray stream(int[] ids, NDManager m) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return m.create(l);
    }

    /** The windows {@code ranges} ([start, end) of one length) of an uploaded stream, stacked as [B, T] in {@code m}. */
    static NDArray windows(NDArray stream, List<int[]> ranges, NDManager m) {
        NDList rows = new NDList(ranges.size());
        for (int[] r : ranges) rows.add(stream.get(m, new NDIndex(r[0] + ":" + r[1])));
        return rows.size() == 1 ? rows.get(0).expandDims(0) : NDArrays.stack(rows);
    }

    /** fp32 log-softmax [B, T-1, vocab] of the predictions for tokens 1..T-1 of ids [B, T], attached to the ids' manager. */
    static NDArray logProbs(LlamaModel model, NDArray ids) {
        long t = ids.getShape().get(1);
        return model.forward(ids).get(new NDIndex(":, :" + (t - 1))).logSoftmax(-1);
    }

    /** The targets of ids [B, T]: tokens 1..T-1 as int64 [B, T-1, 1], cut on the device. */
    static NDArray targets(NDArray ids) {
        return ids.get(new NDIndex(":, 1:")).expandDims(-1);
    }

    /** Summed NLL of the targets under {@code logProbs}, as an fp64 device scalar: sums stay on the device until read. */
    static NDArray nllSum(NDArray logProbs, NDArray targets) {
        return logProbs.gather(targets, -1).toType(DataType.FLOAT64, false).sum().neg();
    }

    /**
     * Per-token KL(teacher || student) = sum_v p_t(v) (log p_t(v) - log p_s(v)) of two [T, vocab] log-probability
     * tensors on the same device: the teacher's distribution weights the difference, as in distillation.
     */
    static float[] klTeacherStudent(NDArray teacherLogProbs, NDArray studentLogProbs) {
        return teacherLogProbs.exp().mul(teacherLogProbs.sub(studentLogProbs)).sum(new int[] {-1}).toFloatArray();
    }
}
