package io.headfuse.converter.report;

import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.AsymStrategy;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Point;
import java.awt.Rectangle;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.style.Styler;

/**
 * Per-layer head-similarity heatmaps with the chosen groups marked: one row per layer, K on the left and V on
 * the right. Heads are listed group by group, so each group is a block on the diagonal, outlined in black
 * ({@link GroupBoxes}); the tick labels are the original head indices. Colour runs from blue (-1) through white
 * (0) to red (1) on every panel, so panels compare at a glance. Each panel is an XChart {@link HeatMapChart}
 * (headless, no display needed); {@link ChartSheet} tiles them under the heading.
 */
public final class SimilarityHeatmap {
    /** One heatmap: a title, a heads x heads similarity matrix and the groups (original head indices). */
    public record Panel(String title, double[][] similarity, int[][] groups) {}

    public static final String FILE = "head-similarity.png";

    private SimilarityHeatmap() {}

    /** The K and V panels of every layer of an asym plan, or none when the plan carries no similarities. */
    public static List<Panel> panels(FusionPlan plan) {
        List<Panel> out = new ArrayList<>();
        Object layers = plan.details().get(AsymStrategy.LAYERS);
        if (!(layers instanceof List<?> list) || list.size() != plan.layers().size()) return out;
        Object name = plan.details().getOrDefault(AsymStrategy.SIMILARITY, "similarity");
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) return List.of();
            LayerPlan lp = plan.layers().get(i);
            for (String kind : new String[] {"k", "v"}) {
                if (!(m.get(kind + "_similarity") instanceof double[][] sim)) return List.of();
                String err = m.get(kind + "_error") instanceof Double e ? String.format(", err %.3f", e) : "";
                out.add(new Panel("layer " + lp.layer() + " " + kind.toUpperCase() + " (" + name + err + ")", sim,
                        kind.equals("k") ? lp.kGroups() : lp.vGroups()));
            }
        }
        return out;
    }

    /** Writes the plan's heatmaps to {@code png}; returns false (writing nothing) when it has no similarities. */
    public static boolean write(FusionPlan plan, String heading, Path png) throws IOException {
        List<Panel> panels = panels(plan);
        if (panels.isEmpty()) return false;
        write(panels, 2, heading, png);
        return true;
    }

    /** The plan's heatmaps as PNG bytes, or empty when it has no similarities (mean-pooling measures none). */
    public static java.util.Optional<byte[]> png(FusionPlan plan, String heading) throws IOException {
        List<Panel> panels = panels(plan);
        if (panels.isEmpty()) return java.util.Optional.empty();
        return java.util.Optional.of(ChartSheet.pngBytes(render(panels, 2, heading).image()));
    }

    /** The sheet as drawn, and each panel's plot area on it (cells are square: side / heads pixels). */
    public record Rendered(BufferedImage image, List<Rectangle> plots) {}

    /** Lays {@code panels} out {@code columns} to a row under {@code heading} and writes a PNG. */
    public static void write(List<Panel> panels, int columns, String heading, Path png) throws IOException {
        ChartSheet.writePng(render(panels, columns, heading).image(), png);
    }

    /** Lays {@code panels} out {@code columns} to a row under {@code heading}; the last column carries the scale. */
    public static Rendered render(List<Panel> panels, int columns, String heading) {
        System.setProperty("java.awt.headless", "true");
        int heads = panels.stream().mapToInt(p -> p.similarity().length).max().orElse(1);
        int side = plotSide(heads);
        List<HeatMapChart> charts = new ArrayList<>();
        List<GroupBoxes> boxes = new ArrayList<>();
        for (int i = 0; i < panels.size(); i++) {
            GroupBoxes b = new GroupBoxes(panels.get(i).groups());
            boolean legend = i % columns == columns - 1 || i == panels.size() - 1;
            charts.add(chart(panels.get(i), side, legend, b));
            boxes.add(b);
        }
        ChartSheet.Tiled tiled = ChartSheet.tile(charts, columns, heading);
        List<Rectangle> plots = new ArrayList<>();
        for (int i = 0; i < boxes.size(); i++) {
            Rectangle plot = boxes.get(i).plot().getBounds();
            Point at = tiled.origins().get(i);
            plot.translate(at.x, at.y);
            plots.add(plot);
        }
        return new Rendered(tiled.image(), plots);
    }

    /** Plot side in pixels: cells of 6..28 pixels, about 320 pixels in all for many heads. */
    static int plotSide(int heads) {
        return heads * Math.max(6, Math.min(28, 320 / Math.max(1, heads)));
    }

    /** One panel: a heatmap of {@code side} x {@code side} plot pixels with its groups outlined by {@code boxes}. */
    static HeatMapChart chart(Panel p, int side, boolean legend, GroupBoxes boxes) {
        int n = p.similarity().length;
        int[] order = new int[n];
        int k = 0;
        for (int[] grp : p.groups()) for (int h : grp) order[k++] = h;
        // XChart puts y index 0 at the bottom; index n-1-r puts listed head r on row r from the top, matrix style.
        List<String> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (int i = 0; i < n; i++) xs.add(Integer.toString(order[i]));
        for (int i = n - 1; i >= 0; i--) ys.add(Integer.toString(order[i]));
        List<Number[]> heat = new ArrayList<>();
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) {
                heat.add(new Number[] {c, n - 1 - r, cellValue(p.similarity()[order[r]][order[c]])});
            }

        // Name the theme: HeatMapChart(w, h) alone leaves the styler unthemed (no title, null fonts and strokes).
        HeatMapChart chart = new HeatMapChart(side + 60, side + 60, Styler.ChartTheme.XChart);
        chart.setTitle(p.title());
        chart.addSeries("similarity", xs, ys, heat);
        style(chart, side, n, legend);
        chart.addAnnotation(boxes);
        fit(chart, boxes, side);
        return chart;
    }

    /**
     * A similarity as the heatmap may take it: NaN shows as 0 (white), and values within rounding of 1 become 1,
     * because XChart 3.8.8's gradient reads one colour past its end for a value a hair below the scale's max
     * (ArrayIndexOutOfBoundsException on a head's similarity with itself, 0.9999999999999999).
     */
    static double cellValue(double v) {
        if (Double.isNaN(v)) return 0;
        return v > 1 - 1e-9 ? 1 : Math.max(-1, v);
    }

    private static void style(HeatMapChart chart, int side, int heads, boolean legend) {
        var s = chart.getStyler();
        int cell = side / Math.max(1, heads);
        // A fixed diverging scale: the same colour means the same similarity on every panel.
        s.setRangeColors(new Color[] {Color.BLUE, Color.WHITE, Color.RED});
        s.setMin(-1);
        s.setMax(1);
        s.setLegendVisible(legend);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(Color.WHITE);
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        s.setGradientColorColumnHeight(Math.min(200, side - 30));
        // Cells fill the whole plot area (GroupBoxes reads this setting, so its boxes follow if it changes).
        s.setPlotContentSize(1.0);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(true);
        s.setPlotBorderColor(Color.BLACK);
        s.setPlotGridLinesVisible(false);
        s.setChartTitleBoxVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setChartTitlePadding(4);
        s.setChartPadding(6);
        s.setPlotMargin(0);
        s.setAxisTitlesVisible(false);
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, Math.min(11, cell - 2))));
        s.setAxisTickLabelsColor(Color.DARK_GRAY);
        s.setAxisTicksVisible(cell >= 8); // below that the labels would overlap
        // Multi-digit head numbers side by side outgrow narrow cells: stand them on end.
        if (cell < 7 * Integer.toString(heads - 1).length() + 4) s.setXAxisLabelRotation(90);
        s.setAxisTicksLineVisible(false);
        s.setToolTipsEnabled(false);
    }

    /**
     * Resizes the chart so its plot area is {@code side} pixels square (square cells, equal plots across the
     * sheet): XChart sizes the chart, not the plot, so paint once, measure the plot, and add the difference.
     */
    private static void fit(HeatMapChart chart, GroupBoxes boxes, int side) {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            int w = chart.getWidth(), h = chart.getHeight();
            for (int pass = 0; pass < 3; pass++) {
                chart.paint(g, w, h); // paint(g, w, h) is also how a chart takes a new size
                Rectangle2D plot = boxes.plot();
                int dw = side - (int) Math.round(plot.getWidth()), dh = side - (int) Math.round(plot.getHeight());
                if (dw == 0 && dh == 0) return;
                w += dw;
                h += dh;
            }
            chart.paint(g, w, h);
        } finally {
            g.dispose();
        }
    }
}
