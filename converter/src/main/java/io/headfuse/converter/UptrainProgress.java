package io.headfuse.converter;

import io.headfuse.uptrain.train.TrainListener;
import io.headfuse.uptrain.train.TrainingReport;
import java.nio.file.Path;
import java.util.Map;

/**
 * Shows a training run: a bar (tokens/s, ETA) with the loss and learning rate beside it where one is drawn, and
 * otherwise (logs, pipes, the GPU machine) a plain line about every tenth of the run with the same figures, so
 * that a long run is never silent.
 */
final class UptrainProgress implements TrainListener, AutoCloseable {
    private final Progress bar;
    private final boolean lines;
    /** A ConsoleProgress off a terminal prints lines of its own: this class's lines say more (loss, lr), so it is not fed. */
    private final boolean feedBar;
    private int steps;
    private int from;
    private long startNanos;
    private int nextLine;
    private long tokensPerStep;

    UptrainProgress(Progress bar) {
        this.bar = bar;
        this.lines = !(bar instanceof ConsoleProgress c && c.showing());
        this.feedBar = !(bar instanceof ConsoleProgress c && !c.showing());
    }

    @Override public void started(int from, int steps, long tokensPerStep) {
        this.from = from;
        this.steps = steps;
        this.tokensPerStep = tokensPerStep;
        this.startNanos = System.nanoTime();
        this.nextLine = from + Math.max(1, steps / 10);
        if (feedBar) bar.start("uptrain", (steps - from) * tokensPerStep, "tok", 1);
    }

    @Override public void stepped(int step, long tokens, double lr, Double loss) {
        if (feedBar) bar.advance(tokensPerStep);
        String status = String.format("loss %s lr %.2e", loss == null ? "…" : String.format("%.4f", loss), lr);
        if (loss != null && feedBar) bar.message(status);
        if (lines && (step >= nextLine || step == steps) && loss != null) {
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            double rate = (step - from) / seconds;
            long eta = Math.round((steps - step) / rate);
            System.err.printf("uptrain: step %d/%d, %,d tokens, %s, %,.0f tokens/s, ETA %d:%02d%n", step, steps, tokens, status,
                    rate * tokensPerStep, eta / 60, eta % 60);
            nextLine = step + Math.max(1, steps / 10);
        }
    }

    @Override public void evaluated(TrainingReport.EvalPoint p) {
        StringBuilder s = new StringBuilder("uptrain: held-out perplexity at " + String.format("%,d", p.tokens()) + " tokens:");
        for (Map.Entry<String, Double> e : p.ppl().entrySet()) s.append(String.format(" %s %.3f", e.getKey(), e.getValue()));
        System.err.println(s);
    }

    @Override public void saved(Path dir, int step) {
        System.err.println("uptrain: resumable state at step " + step + " written to " + dir);
    }

    @Override public void close() { bar.close(); }
}
