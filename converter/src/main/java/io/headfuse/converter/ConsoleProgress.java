package io.headfuse.converter;

import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar on stderr (rate and ETA), via the progressbar library. */
public final class ConsoleProgress implements Progress {
    private ProgressBar bar;

    @Override
    public void start(String task, long total, String unit, long unitSize) {
        close();
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, unitSize)
                .showSpeed().setSpeedUnit(ChronoUnit.SECONDS).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(250).build();
    }

    @Override public void advance(long n) { if (bar != null) bar.stepBy(n); }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
    }
}
