package io.headfuse.fusion.asym;

/** Per-head combined maps for tests of any head_dim. */
final class AlignmentTestAccess {
    private AlignmentTestAccess() {}

    static double[] qk(LayerWeights w, int h) {
        int hid = w.hidden(), d = w.headDim();
        return Dense.mul(Dense.transpose(w.headRows(w.q(), h), d, hid), w.headRows(w.k(), h), hid, d, hid);
    }

    static double[] ov(LayerWeights w, int h) {
        return Dense.mul(w.headColumns(h), w.headRows(w.v(), h), w.hidden(), w.headDim(), w.hidden());
    }
}
