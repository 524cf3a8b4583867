package io.headfuse.fusion.asym;

/**
 * Linear centred kernel alignment, |Cov(h_i, h_j)|_F^2 / (|Cov(h_i)|_F |Cov(h_j)|_F): whether the two heads
 * carry the same information up to a rotation and scale. Invariant to orthogonal maps, so it is the similarity
 * that matters once heads are aligned before merging.
 */
public record LinearCka() implements HeadSimilarity {
    @Override public String name() { return "cka"; }

    @Override public double[][] matrix(HeadStats s) {
        int n = s.heads();
        double[] self = new double[n];
        for (int i = 0; i < n; i++) self[i] = Math.sqrt(Dense.frobeniusSq(s.centred()[i][i]));
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double den = self[i] * self[j];
                out[i][j] = den > 0 ? Dense.frobeniusSq(s.centred()[i][j]) / den : (i == j ? 1 : 0);
            }
        return out;
    }
}
