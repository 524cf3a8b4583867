package io.headfuse.uptrain.eval;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/** A token-count progress bar with rate and ETA on stderr, or nothing. */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) { this.bar = bar; }

    static Progress start(boolean show, String label, long total) {
        if (!show) return new Progress(null);
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(label)
                .setInitialMax(total)
                .setUnit(" tok", 1)
                .showSpeed(new java.text.DecimalFormat("#,##0"))
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .build();
        return new Progress(bar);
    }

    void step(long n) {
        if (bar != null) bar.stepBy(n);
    }

    @Override public void close() {
        if (bar != null) bar.close();
    }
}
