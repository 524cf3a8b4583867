package io.headfuse.converter;

import java.io.PrintStream;
import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Progress on stderr. On a terminal, a bar (rate and ETA) via the progressbar library. Elsewhere (logs, pipes, the
 * GPU machine) its carriage-return redraws would only be noise, so a long task prints a plain line with the same
 * figures every {@link #LINE_SECONDS} seconds, and each task that completes prints one line with its time and rate:
 * a log then says where a run's time went. A task closed before completing (a failure) prints nothing, so a failure
 * stays the one line that says what went wrong.
 */
public final class ConsoleProgress implements Progress {
    /** Seconds between the plain lines of a running task. */
    static final double LINE_SECONDS = 30;

    private final boolean show;
    private final PrintStream out;
    private final double lineSeconds;
    private ProgressBar bar;
    // The running task, for plain lines.
    private String task;
    private String unit;
    private long total;
    private long unitSize;
    private long done;
    private long startNanos;
    private long lastLineNanos;

    public ConsoleProgress() { this(interactive(), System.err, LINE_SECONDS); }

    /** A bar when {@code bar}, else plain lines every {@code lineSeconds} (and one per completed task), to {@code out}. */
    ConsoleProgress(boolean bar, PrintStream out, double lineSeconds) {
        this.show = bar;
        this.out = out;
        this.lineSeconds = lineSeconds;
    }

    /** True when the process runs on a terminal (what decides whether progress bars are drawn). */
    public static boolean interactive() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public void start(String task, long total, String unit, long unitSize) {
        close();
        if (show) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, unitSize)
                    .showSpeed().setSpeedUnit(ChronoUnit.SECONDS)
                    .setConsumer(new ConsoleProgressBarConsumer(out)).setUpdateIntervalMillis(250).build();
            return;
        }
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.unitSize = Math.max(1, unitSize);
        this.done = 0;
        this.startNanos = this.lastLineNanos = System.nanoTime();
    }

    @Override
    public void advance(long n) {
        if (bar != null) bar.stepBy(n);
        if (task == null) return;
        done += n;
        long now = System.nanoTime();
        if (done < total && (now - lastLineNanos) / 1e9 >= lineSeconds) {
            lastLineNanos = now;
            double seconds = (now - startNanos) / 1e9, rate = done / seconds;
            long eta = Math.round((total - done) / rate);
            out.printf("%s: %s/%s %s (%.0f%%), %s %s/s, ETA %d:%02d%n", task, units(done), units(total), unit, 100.0 * done / total,
                    rate(rate), unit, eta / 60, eta % 60);
        }
    }

    @Override public void message(String text) { if (bar != null) bar.setExtraMessage(text); }

    /** Whether a bar is drawn (else callers that want a trace print plain lines). */
    public boolean showing() { return show; }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
        if (task != null && total > 0 && done >= total) {
            double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
            out.printf("%s: %s %s in %.1f s, %s %s/s%n", task, units(done), unit, seconds, rate(done / seconds), unit);
        }
        task = null;
    }

    private String units(long n) { return String.format("%,d", n / unitSize); }

    private String rate(double perSecond) {
        double r = perSecond / unitSize;
        return r >= 100 ? String.format("%,.0f", r) : String.format("%.3g", r);   // 3 digits: a slow phase (0.00375 layers/s) is not 0.00
    }
}
