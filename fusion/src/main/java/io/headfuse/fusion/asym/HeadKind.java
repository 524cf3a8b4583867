package io.headfuse.fusion.asym;

/** Which projection a grouping, alignment or pooled head is about: keys or values group separately. */
public enum HeadKind {
    /** Keys: aligned only by rotations inside RoPE planes (folded into q_proj and k_proj), weighted by the query. */
    K,
    /** Values: aligned by any orthogonal matrix (folded into v_proj and o_proj), weighted by the output map. */
    V;

    public String label() { return this == K ? "K" : "V"; }
}
