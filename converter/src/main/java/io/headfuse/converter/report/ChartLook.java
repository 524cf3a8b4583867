package io.headfuse.converter.report;

import java.awt.Color;
import java.awt.Font;
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
}
