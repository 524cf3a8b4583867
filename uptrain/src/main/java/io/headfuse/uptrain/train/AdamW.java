package io.headfuse.uptrain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.headfuse.uptrain.model.FusedKernels;
import java.util.List;

/**
 * AdamW as torch.optim.AdamW computes it (decoupled weight decay; bias corrections applied to the step size and to
 * the second moment: p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)), with a global-norm gradient clip in front
 * (torch.nn.utils.clip_grad_norm_: every gradient scaled by min(1, max / (norm + 1e-6))).
 *
 * <p>Written by hand because DJL's optimisers clip element-wise and only from above, and its trainer sums
 * gradients across devices. Everything stays on the device: the clip coefficient is a device scalar, so a step
 * never waits for the GPU; only reading the returned norm does.
 *
 * <p>Updates run with autograd off (outside the gradient collector), so in-place writes to leaves are allowed.
 * Temporaries that DJL attaches to a persistent array's manager are moved to the step's manager, so nothing
 * accumulates over steps.
 */
final class AdamW {
    private final List<TrainableParameter> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    AdamW(List<TrainableParameter> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    List<TrainableParameter> parameters() { return params; }

    /**
     * The global L2 norm of {@code grads} (a device scalar on their manager), after scaling them in place so that
     * it is at most {@code maxNorm} (no clipping when maxNorm is 0).
     */
    NDArray clipGradients(List<NDArray> grads, double maxNorm) {
        NDArray[] squares = new NDArray[grads.size()];
        for (int i = 0; i < squares.length; i++) squares[i] = grads.get(i).square().sum();
        NDArray norm = ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(squares)).sum().sqrt();
        if (maxNorm > 0) {
            NDArray coef = norm.add(1e-6).pow(-1).mul((float) maxNorm).minimum(1f);
            for (NDArray g : grads) g.muli(coef);
        }
        return norm;
    }

    /**
     * One update with learning rate {@code lr} at step {@code t} (1-based, for the bias corrections), from
     * {@code grads} (one per parameter, in order).
     */
    void update(NDManager step, List<NDArray> grads, double lr, int t) {
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
        for (int i = 0; i < params.size(); i++) {
            TrainableParameter p = params.get(i);
            NDArray g = grads.get(i);
            double plr = lr * p.lrScale();
            if (weightDecay != 0) p.weight().muli((float) (1 - plr * weightDecay));
            p.expAvg().muli((float) beta1).addi(g.mul((float) (1 - beta1)));
            p.expAvgSq().muli((float) beta2).addi(g.square().muli((float) (1 - beta2)));
            NDArray denom = onStep(p.expAvgSq().sqrt(), step).divi((float) bc2Sqrt).addi((float) eps);
            NDArray delta = onStep(p.expAvg().div(denom), step).muli((float) (plr / bc1));
            p.weight().subi(delta);
        }
    }

    /**
     * The whole step through {@link FusedKernels}: clip to {@code maxNorm}, the AdamW update at {@code lr} and step
     * {@code t}, gradients zeroed; returns the norm before clipping (a device scalar on {@code step}). Same math as
     * {@link #clipGradients}, {@link #update} and {@link #zeroGradients}, in a few kernels and one native call.
     */
    NDArray fusedStep(FusedKernels kernels, NDManager step, double maxNorm, double lr, int t) {
        List<NDArray> weights = new java.util.ArrayList<>(params.size());
        List<NDArray> m = new java.util.ArrayList<>(params.size());
        List<NDArray> v = new java.util.ArrayList<>(params.size());
        double[] lrs = new double[params.size()];
        for (int i = 0; i < lrs.length; i++) {
            TrainableParameter p = params.get(i);
            weights.add(p.weight());
            m.add(p.expAvg());
            v.add(p.expAvgSq());
            lrs[i] = lr * p.lrScale();
        }
        return kernels.clipAndAdamW(step, weights, m, v, lrs, maxNorm, t, beta1, beta2, eps, weightDecay);
    }

    /** Sets every gradient to zero (torch's zero_grad without set_to_none). */
    void zeroGradients() {
        for (TrainableParameter p : params) JniUtils.zeroGrad((PtNDArray) p.weight());
    }

    /**
     * Every parameter's gradient, in order, as handles owned by the step (the tensors stay with the weights). Fetched
     * once per step: each fetch is a JNI call that creates a handle.
     */
    List<NDArray> gradients(NDManager step) {
        List<NDArray> out = new java.util.ArrayList<>(params.size());
        for (TrainableParameter p : params) out.add(gradient(p, step));
        return out;
    }

    /** The gradient of {@code p}, as a handle owned by the step (the tensor itself stays with the weight). */
    private static NDArray gradient(TrainableParameter p, NDManager step) {
        return onStep(p.weight().getGradient(), step);
    }

    private static NDArray onStep(NDArray a, NDManager step) {
        a.attach(step);
        return a;
    }
}
