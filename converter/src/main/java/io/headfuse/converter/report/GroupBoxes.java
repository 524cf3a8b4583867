package io.headfuse.converter.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.style.AxesChartStyler;

/**
 * An XChart annotation that outlines the kv groups of a square heatmap whose rows and columns are listed group
 * by group, so each group is a block on the diagonal. XChart 3.8.8 has no box annotation, and its category axes
 * give annotations no cell coordinates, so this one works from the plot area that XChart hands every annotation
 * and divides it into cells the way XChart's own heatmap painter (PlotContent_HeatMap) does.
 */
final class GroupBoxes extends Annotation {
    private static final BasicStroke STROKE = new BasicStroke(2f);

    private final int[] sizes;
    private final int cells;
    private Rectangle2D plot;

    /** {@code groups}: the heads of each group, in the order the heatmap lists them. */
    GroupBoxes(int[][] groups) {
        super(true);
        this.sizes = new int[groups.length];
        int n = 0;
        for (int i = 0; i < groups.length; i++) n += sizes[i] = groups[i].length;
        this.cells = n;
    }

    @Override
    public void paint(Graphics2D g) {
        int x0 = getXAxisScreenValueForMin(), x1 = getXAxisScreenValueForMax();
        int y0 = getYAxisScreenValueForMin(), y1 = getYAxisScreenValueForMax();
        plot = new Rectangle2D.Double(x0, y0, x1 - x0, y1 - y0);
        bounds = plot;
        if (!isVisible || cells == 0) return;
        // The heatmap leaves (1 - plot content size) of the plot free, split evenly on both sides.
        double content = ((AxesChartStyler) styler).getPlotContentSize();
        double mx = plot.getWidth() * (1 - content) / 2, my = plot.getHeight() * (1 - content) / 2;
        double cw = (plot.getWidth() - 2 * mx) / cells, ch = (plot.getHeight() - 2 * my) / cells;
        g.setColor(Color.BLACK);
        g.setStroke(STROKE);
        int start = 0;
        for (int size : sizes) {
            g.draw(new Rectangle2D.Double(x0 + mx + start * cw, y0 + my + start * ch, size * cw, size * ch));
            start += size;
        }
    }

    /** The chart's plot area in chart pixels at the last paint, or null before the first. */
    Rectangle2D plot() { return plot; }
}
