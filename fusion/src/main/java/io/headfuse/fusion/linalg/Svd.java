package io.headfuse.fusion.linalg;

/** An SVD M = U diag(S) V^T of a square n x n matrix; all row-major, singular values descending. */
public record Svd(double[] u, double[] s, double[] vt) {}
