package io.headfuse.fusion.asym;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.calib.CalibrationStats;
import java.io.IOException;

/**
 * E[x x^T] and Cov[x] of a layer's attention input, from calibration statistics, or, when there are none, from
 * the weights alone: x = g * x_hat with x_hat the RMS-normalised residual, and x_hat taken as isotropic
 * (E[x_hat x_hat^T] = I, which its unit mean square allows), so E[x x^T] = diag(g^2). The fallback knows nothing
 * of the residual stream's real anisotropy; it is for planning without text, not for good conversions.
 */
public record InputMoments(double[] secondMoment, double[] covariance, boolean calibrated) {

    public static InputMoments of(Checkpoint in, CalibrationStats stats, int layer) throws IOException {
        if (stats != null) return new InputMoments(stats.secondMoment(layer), stats.covariance(layer), true);
        float[] g = in.tensor(LlamaNames.inputNorm(layer)).toFloats();
        int n = g.length;
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) m[i * n + i] = (double) g[i] * g[i];
        return new InputMoments(m, m, false);
    }
}
