package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * One decoder layer's parameters in HF layout ({@code [out, in]} projections). Biases are null when the
 * checkpoint has none (Llama has none; {@code attention_bias} / {@code mlp_bias} configs do).
 */
public record LayerWeights(
        NDArray inputNorm, NDArray q, NDArray k, NDArray v, NDArray o,
        NDArray qBias, NDArray kBias, NDArray vBias, NDArray oBias,
        NDArray postNorm, NDArray gate, NDArray up, NDArray down,
        NDArray gateBias, NDArray upBias, NDArray downBias) {

    /** The same layer with {@code f} applied to every non-null parameter (e.g. widening fp16-stored weights). */
    public LayerWeights map(java.util.function.UnaryOperator<NDArray> f) {
        java.util.function.UnaryOperator<NDArray> g = a -> a == null ? null : f.apply(a);
        return new LayerWeights(g.apply(inputNorm), g.apply(q), g.apply(k), g.apply(v), g.apply(o),
                g.apply(qBias), g.apply(kBias), g.apply(vBias), g.apply(oBias),
                g.apply(postNorm), g.apply(gate), g.apply(up), g.apply(down),
                g.apply(gateBias), g.apply(upBias), g.apply(downBias));
    }

    /** The same layer with other K and V projections and biases (biases may stay null). */
    public LayerWeights withKv(NDArray k, NDArray v, NDArray kBias, NDArray vBias) {
        return new LayerWeights(inputNorm, q, k, v, o, qBias, kBias, vBias, oBias, postNorm, gate, up, down, gateBias, upBias, downBias);
    }

    /** Every parameter in the record's order, null where absent (the order the fused decode layer reads them in). */
    public NDArray[] slots() {
        return new NDArray[] {inputNorm, q, k, v, o, qBias, kBias, vBias, oBias, postNorm, gate, up, down, gateBias, upBias, downBias};
    }

    /** Every non-null parameter, in a fixed order. */
    public List<NDArray> all() {
        List<NDArray> out = new ArrayList<>();
        for (NDArray a : slots()) if (a != null) out.add(a);
        return out;
    }
}
