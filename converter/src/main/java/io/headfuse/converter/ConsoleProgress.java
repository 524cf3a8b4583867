package io.headfuse.converter;

import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * A progress bar on stderr (rate and ETA), via the progressbar library, drawn only where someone watches: in
 * logs and pipes its carriage-return redraws would only be noise.
 */
public final class ConsoleProgress implements Progress {
    private final boolean show = interactive();
    private ProgressBar bar;

    /** True when the process runs on a terminal (what decides whether progress bars are drawn). */
    public static boolean interactive() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public void start(String task, long total, String unit, long unitSize) {
        close();
        if (!show) return;
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, unitSize)
                .showSpeed().setSpeedUnit(ChronoUnit.SECONDS)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(250).build();
    }

    @Override public void advance(long n) { if (bar != null) bar.stepBy(n); }

    @Override public void message(String text) { if (bar != null) bar.setExtraMessage(text); }

    /** Whether a bar is drawn (else callers that want a trace print plain lines). */
    public boolean showing() { return show; }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
    }
}
