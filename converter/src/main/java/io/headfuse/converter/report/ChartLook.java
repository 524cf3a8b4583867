package io.headfuse.converter.report;

import java.awt.Color;
import java.awt.Font;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.knowm.xchart.style.AxesChartStyler;

/** The look every headfuse chart shares: white, a grey plot border, no title box, plain sans-serif fonts, no tooltips. */
final class ChartLook {
    private ChartLook() {}

    static void apply(AxesChartStyler s, int tickFontSize) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderColor(Color.GRAY);
        s.setChartTitleBoxVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, tickFontSize));
        s.setToolTipsEnabled(false);
    }

    /**
     * One curve without markers or legend; an empty curve is drawn as a single point at the origin, since XChart
     * refuses a series without data.
     */
    static void singleLine(XYChart c, String name, List<Double> x, List<Double> y) {
        if (x.isEmpty()) {
            x.add(0.0);
            y.add(0.0);
        }
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(new Color(0x1f77b4));
        c.getStyler().setLegendVisible(false);
    }

    /** A curve chart against a token count (training or fusion tokens), in the shared look. */
    static XYChart tokensChart(int width, int height, String title, String xTitle, String yTitle) {
        XYChart c = new XYChart(width, height, Styler.ChartTheme.XChart);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        apply(c.getStyler(), 11);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setXAxisDecimalPattern("#,##0");
        return c;
    }
}
