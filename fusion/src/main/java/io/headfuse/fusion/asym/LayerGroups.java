package io.headfuse.fusion.asym;

/**
 * The groups chosen for one layer, with what they cost: relative reconstruction errors (0 lossless, 1 as bad as
 * dropping the heads) of the chosen method on the chosen groups, and of plain mean-pooling on contiguous groups for
 * comparison, plus the similarity matrices shown in the heatmaps.
 */
public record LayerGroups(int layer, Grouping k, Grouping v, double[][] kSimilarity, double[][] vSimilarity,
                        double kError, double vError, double kBaseline, double vBaseline, long nanos) {

    /** True when K and V share one grouping. */
    public boolean shared() { return k.equals(v); }

    /** True when the layer can be written as a standard GQA layer (after permuting query heads). */
    public boolean standard() { return shared() && k.equalSizes(); }

    public Grouping grouping(HeadKind kind) { return kind == HeadKind.K ? k : v; }

    public double[][] similarity(HeadKind kind) { return kind == HeadKind.K ? kSimilarity : vSimilarity; }

    public double millis() { return nanos / 1e6; }
}
