package io.headfuse.converter.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.style.Styler;

/**
 * The asym table ({@link AsymBench}) as an XChart grouped bar chart: one group per variant, one bar per kv head
 * count, perplexity on a log scale (mean-pooling can be orders of magnitude worse than asym, and a linear axis
 * would flatten the asym bars), and the original model's perplexity as a dashed reference line.
 */
public final class AsymChart {
    public static final String FILE = "asym-table.png";
    public static final int WIDTH = 1100, HEIGHT = 560;

    private static final Color[] BARS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728)};

    private AsymChart() {}

    /** Draws {@code rows} (in table order) under {@code title}, with {@code mhaPpl} as the reference line. */
    public static void write(String title, int mhaKv, double mhaPpl, List<AsymBench.Row> rows, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        ChartSheet.writePng(BitmapEncoder.getBufferedImage(chart(title, mhaKv, mhaPpl, rows)), png);
    }

    static CategoryChart chart(String title, int mhaKv, double mhaPpl, List<AsymBench.Row> rows) {
        // Variants and kv counts keep the table's order; a cell the table lacks, or whose perplexity is not a
        // number (a diverged conversion), stays a gap (null): a log axis has no place for it.
        Set<String> variants = new LinkedHashSet<>();
        Map<Integer, Map<String, Double>> byKv = new LinkedHashMap<>();
        for (AsymBench.Row r : rows) {
            variants.add(r.variant());
            Map<String, Double> cells = byKv.computeIfAbsent(r.kvHeads(), k -> new LinkedHashMap<>());
            if (Double.isFinite(r.ppl()) && r.ppl() > 0) cells.put(r.variant(), r.ppl());
        }
        CategoryChart chart = new CategoryChart(WIDTH, HEIGHT, Styler.ChartTheme.XChart);
        chart.setTitle(title);
        // The x axis title has room to spare where the chart title has none (the title names files).
        chart.setXAxisTitle(String.format("variant  (dashed line: original MHA model, %d kv heads, ppl %.2f)", mhaKv, mhaPpl));
        chart.setYAxisTitle("validation perplexity (log scale, lower is better)");
        List<String> xs = new ArrayList<>(variants);
        double lo = mhaPpl, hi = mhaPpl;
        for (var e : byKv.entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (String v : xs) {
                Double p = e.getValue().get(v);
                ys.add(p);
                if (p != null) {
                    lo = Math.min(lo, p);
                    hi = Math.max(hi, p);
                }
            }
            chart.addSeries(e.getKey() + " kv heads", xs, ys);
        }
        style(chart, lo, hi);

        chart.addAnnotation(new AnnotationLine(mhaPpl, false, false));
        // Name the line where no bar is: in the plot's left margin, just above the line. On a string category
        // axis chart-space x runs 0..categories across the plot's content part (plot content size), so the
        // margin's middle sits at a small negative x.
        double content = chart.getStyler().getPlotContentSize();
        chart.addAnnotation(new AnnotationText("MHA", -(1 - content) / 4 / content * xs.size(), mhaPpl * Math.pow(hi / lo, 0.03), false));
        return chart;
    }

    private static void style(CategoryChart chart, double lo, double hi) {
        var s = chart.getStyler();
        s.setYAxisLogarithmic(true);
        s.setYAxisLogarithmicDecadeOnly(false);
        // Room below the lowest value (the bars start at the axis) and above the highest (for the bar labels).
        s.setYAxisMin(lo / 1.5);
        s.setYAxisMax(hi * 1.5);
        s.setYAxisDecimalPattern("#,##0.#");
        s.setSeriesColors(BARS);
        s.setLabelsVisible(true);
        s.setLabelsPosition(0.97); // near the top of the bar, clear of its edge
        s.setLabelsFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
        ChartLook.apply(s, 12);
        s.setPlotGridVerticalLinesVisible(false);
        s.setXAxisLabelRotation(20); // the variant names are wider than their groups
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setLegendBorderColor(Color.WHITE);
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setAnnotationLineColor(Color.DARK_GRAY);
        s.setAnnotationLineStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        s.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.ITALIC, 12));
        s.setAnnotationTextFontColor(Color.DARK_GRAY);
    }
}
