package io.headfuse.uptrain.eval;

/**
 * How a text is evaluated.
 *
 * @param window    tokens per disjoint window (each predicts window-1 tokens)
 * @param from      0 to evaluate the whole token stream; f in (0,1) to evaluate the stream from index
 *                  {@code (int)(f * n)} on with one BOS put in front (the validation slice of assets/README.md
 *                  is {@code from = 0.98})
 * @param maxTokens evaluate at most this many tokens of the (sliced) stream; 0 for all
 * @param progress  show a progress bar on stderr
 * @param label     the progress bar's task name
 * @param batch     windows of equal length stacked per forward pass; 0 for the device's default
 *                  ({@link BatchSize#auto}: 1 on the CPU, by window and memory on a GPU)
 */
public record EvalOptions(int window, double from, long maxTokens, boolean progress, String label, int batch) {
    public static final int DEFAULT_WINDOW = 512;
    /** The held-out part of the texts headfuse-mha-s/m were trained on. */
    public static final double VALIDATION_FROM = 0.98;

    public EvalOptions {
        if (window < 2) throw new IllegalArgumentException("window must be at least 2 tokens, got " + window);
        if (from < 0 || from >= 1) throw new IllegalArgumentException("from must be in [0, 1), got " + from);
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        if (batch < 0) throw new IllegalArgumentException("batch must be >= 1 (or 0 for the device's default), got " + batch);
        if (label == null) label = "eval";
    }

    public static EvalOptions defaults() { return new EvalOptions(DEFAULT_WINDOW, 0, 0, false, "eval", 0); }

    /** The validation-slice convention of reference.json. */
    public static EvalOptions validation() { return defaults().withFrom(VALIDATION_FROM); }

    public EvalOptions withWindow(int w) { return new EvalOptions(w, from, maxTokens, progress, label, batch); }

    public EvalOptions withFrom(double f) { return new EvalOptions(window, f, maxTokens, progress, label, batch); }

    public EvalOptions withMaxTokens(long n) { return new EvalOptions(window, from, n, progress, label, batch); }

    public EvalOptions withProgress(boolean p) { return new EvalOptions(window, from, maxTokens, p, label, batch); }

    public EvalOptions withLabel(String l) { return new EvalOptions(window, from, maxTokens, progress, l, batch); }

    public EvalOptions withBatch(int b) { return new EvalOptions(window, from, maxTokens, progress, label, b); }
}
