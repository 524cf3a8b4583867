package io.headfuse.fusion.asym;

import java.util.List;

/**
 * How alike two heads' activations are over the calibration text, from the layer's head statistics: a symmetric
 * heads x heads matrix with ones on the diagonal for identical heads. Used for the within-group similarity
 * objective, Ward merges on it, and the heatmaps.
 */
public interface HeadSimilarity {
    /** The name {@code --similarity} selects it by. */
    String name();

    double[][] matrix(HeadStats stats);

    /** The measures headfuse ships. */
    static List<HeadSimilarity> all() { return List.of(new Cosine(), new LinearCka()); }

    static HeadSimilarity byName(String name) {
        for (HeadSimilarity s : all()) if (s.name().equalsIgnoreCase(name)) return s;
        throw new IllegalArgumentException("unknown head similarity '" + name + "' (known: cosine, cka)");
    }
}
