package io.headfuse.converter.report;

import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.dha.DhaStrategy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code dha.png} of a DHA conversion with learned fusion: the fusion loss of every layer and the distillation KL
 * against training tokens (log scale: the augmented Lagrangian drives the fusion loss down by orders of magnitude),
 * beside the per-layer K and V head budgets the groups collapsed to.
 */
public final class DhaChart {
    public static final String FILE = "dha.png";
    /** The plan detail key of the fusion log (DhaFusionTraining.LOG; report/ sits below the pipeline). */
    public static final String LOG_KEY = "learned_fusion";
    private static final int WIDTH = 560, HEIGHT = 400;

    private DhaChart() {}

    /** The chart, or empty when the plan has no learned-fusion log (zero-shot DHA, other strategies). */
    public static Optional<byte[]> png(FusionPlan plan, String heading) throws IOException {
        if (!(plan.details().get(LOG_KEY) instanceof Map<?, ?> log) || !(log.get("points") instanceof List<?> points) || points.isEmpty()
                || !(plan.details().get(DhaStrategy.K_HEADS) instanceof int[] k) || !(plan.details().get(DhaStrategy.V_HEADS) instanceof int[] v))
            return Optional.empty();
        return Optional.of(ChartSheet.pngBytes(ChartSheet.tile(List.of(fusionLoss(points), kl(points), budgets(k, v, plan.kvHeads())), 3, heading).image()));
    }

    static XYChart fusionLoss(List<?> points) {
        XYChart c = xy("fusion loss per layer (relative spread of each group's members)", "fusion loss (log scale)");
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmicDecadeOnly(true);   // the loss spans decades: label those alone, so the ticks stay legible
        int layers = points.get(0) instanceof Map<?, ?> m && m.get("fusion_loss") instanceof double[] f ? f.length : 0;
        for (int l = 0; l < layers; l++) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (Object o : points)
                if (o instanceof Map<?, ?> m && m.get("fusion_loss") instanceof double[] f && f[l] > 0 && m.get("tokens") instanceof Number t) {
                    x.add(t.doubleValue());
                    y.add(f[l]);
                }
            if (!x.isEmpty()) c.addSeries("layer " + l, x, y).setMarker(SeriesMarkers.NONE);
        }
        if (c.getSeriesMap().isEmpty()) c.addSeries("no fusion loss", List.of(0.0), List.of(1.0));
        return c;
    }

    static XYChart kl(List<?> points) {
        XYChart c = xy("distillation KL(teacher || student), unfused model", "KL (nats per token)");
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (Object o : points)
            if (o instanceof Map<?, ?> m && m.get("kl") instanceof Number kl && Double.isFinite(kl.doubleValue()) && m.get("tokens") instanceof Number t) {
                x.add(t.doubleValue());
                y.add(kl.doubleValue());
            }
        ChartLook.singleLine(c, "KL", x, y);
        return c;
    }

    static CategoryChart budgets(int[] k, int[] v, int kvHeads) {
        CategoryChart c = new CategoryChart(WIDTH, HEIGHT, Styler.ChartTheme.XChart);
        c.setTitle("heads kept per layer (budget: " + kvHeads + " on average)");
        c.setXAxisTitle("layer");
        c.setYAxisTitle("kv heads");
        ChartLook.apply(c.getStyler(), 11);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        List<String> layers = new ArrayList<>();
        List<Integer> ks = new ArrayList<>(), vs = new ArrayList<>();
        for (int l = 0; l < k.length; l++) {
            layers.add(Integer.toString(l));
            ks.add(k[l]);
            vs.add(v[l]);
        }
        c.addSeries("K heads", layers, ks);
        c.addSeries("V heads", layers, vs);
        return c;
    }

    private static XYChart xy(String title, String yTitle) {
        return ChartLook.tokensChart(WIDTH, HEIGHT, title, "fusion tokens", yTitle);
    }
}
