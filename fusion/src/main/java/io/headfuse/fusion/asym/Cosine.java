package io.headfuse.fusion.asym;

/**
 * Cosine of the activations, E[h_i . h_j] / sqrt(E|h_i|^2 E|h_j|^2): how close the two heads' outputs are
 * coordinate by coordinate. Not invariant to rotating a head, so it sees heads that alignment could match as
 * dissimilar; it is what plain mean-pooling is sensitive to.
 */
public record Cosine() implements HeadSimilarity {
    @Override public String name() { return "cosine"; }

    @Override public double[][] matrix(HeadStats s) {
        int n = s.heads(), d = s.headDim();
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double den = Math.sqrt(Dense.trace(s.moment()[i][i], d) * Dense.trace(s.moment()[j][j], d));
                out[i][j] = den > 0 ? Dense.trace(s.moment()[i][j], d) / den : (i == j ? 1 : 0);
            }
        return out;
    }
}
