package io.headfuse.fusion.asym;

/**
 * Recognises a covariance that is the second moment less the outer product of the mean, Cov = E[x x^T] - mu mu^T
 * (how calibration statistics make it), and recovers mu, so centred head statistics can be had from uncentred
 * ones without a second pair of hidden-size products.
 */
final class MeanOuterProduct {
    /** Entry-wise slack, against the moment's largest entry, for the rounding of forming Cov in double precision. */
    private static final double TOLERANCE = 1e-12;

    private MeanOuterProduct() {}

    /**
     * mu (up to sign, which mu mu^T does not see) with covariance = moment - mu mu^T within rounding; zeros when
     * they are equal; null when the difference is not such an outer product (then the caller computes directly).
     */
    static double[] meanOf(double[] moment, double[] covariance, int n) {
        if (moment == covariance) return new double[n];
        double[] diff = new double[n * n];
        double scale = 0;
        int top = 0;
        for (int i = 0; i < diff.length; i++) {
            diff[i] = moment[i] - covariance[i];
            scale = Math.max(scale, Math.abs(moment[i]));
        }
        for (int k = 1; k < n; k++) if (diff[k * n + k] > diff[top * n + top]) top = k;
        double pivot = diff[top * n + top];
        double slack = TOLERANCE * Math.max(scale, Double.MIN_NORMAL);
        double[] mu = new double[n];
        if (pivot > slack) {
            double root = Math.sqrt(pivot);
            for (int i = 0; i < n; i++) mu[i] = diff[i * n + top] / root;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (Math.abs(diff[i * n + j] - mu[i] * mu[j]) > slack) return null;
        return mu;
    }
}
