package io.headfuse.converter.report;

import io.headfuse.converter.UptrainReport;
import io.headfuse.uptrain.train.TrainingReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code uptrain.png}: the training loss against tokens seen, and the held-out perplexity of each slice against
 * tokens (log scale: a converted student often starts several times above where it ends), side by side.
 */
public final class UptrainChart {
    public static final String FILE = "uptrain.png";
    private static final int WIDTH = 620, HEIGHT = 420;

    private UptrainChart() {}

    public static byte[] png(UptrainReport r) throws IOException {
        TrainingReport t = r.training();
        String heading = String.format("headfuse uptrain: %s -> %s   (%s, %s, lr %.1e, %,d tokens, %,.0f tokens/s)", r.student().getFileName(),
                r.output().getFileName(), t.recipe().loss().label(), "train " + t.recipe().scope().label(), t.recipe().lr(), t.tokens(),
                t.tokensPerSecond());
        return ChartSheet.pngBytes(ChartSheet.tile(List.of(loss(t), perplexity(t, r.teacherPpl())), 2, heading).image());
    }

    static XYChart loss(TrainingReport t) {
        XYChart c = chart("training loss (" + t.recipe().loss().label() + ")", "loss");
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (TrainingReport.LossPoint p : t.losses()) {
            if (!Double.isFinite(p.loss())) continue;
            x.add((double) p.tokens());
            y.add(p.loss());
        }
        ChartLook.singleLine(c, "loss", x, y);
        return c;
    }

    static XYChart perplexity(TrainingReport t, TrainingReport.EvalPoint teacher) {
        XYChart c = chart("held-out perplexity (last point: the written weights)", "perplexity (log scale)");
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmicDecadeOnly(false);
        c.getStyler().setYAxisDecimalPattern("#,##0.#");
        Map<String, List<double[]>> bySlice = new LinkedHashMap<>();
        for (TrainingReport.EvalPoint p : t.evals())
            for (var e : p.ppl().entrySet())
                if (Double.isFinite(e.getValue()) && e.getValue() > 0)
                    bySlice.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new double[] {p.tokens(), e.getValue()});
        for (var e : bySlice.entrySet()) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (double[] p : e.getValue()) {
                x.add(p[0]);
                y.add(p[1]);
            }
            c.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        if (bySlice.isEmpty()) c.addSeries("no evaluation", List.of(0.0), List.of(1.0));
        // The teacher's perplexity on the same slices: where the student is heading, as dashed lines.
        if (teacher != null && !t.evals().isEmpty()) {
            double end = Math.max(1, t.evals().get(t.evals().size() - 1).tokens());
            for (var e : teacher.ppl().entrySet()) {
                if (!Double.isFinite(e.getValue()) || e.getValue() <= 0) continue;
                XYSeries s = c.addSeries("teacher: " + e.getKey(), List.of(0.0, end), List.of(e.getValue(), e.getValue()));
                s.setMarker(SeriesMarkers.NONE);
                s.setLineStyle(new java.awt.BasicStroke(1.2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            }
        }
        return c;
    }

    private static XYChart chart(String title, String yTitle) {
        return ChartLook.tokensChart(WIDTH, HEIGHT, title, "training tokens", yTitle);
    }
}
