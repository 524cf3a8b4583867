package io.headfuse.converter.report;

import io.headfuse.uptrain.eval.DecodeResult;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.style.Styler;

/**
 * {@code bench-decode}'s figure: two XChart bar charts side by side, decode tokens/s and kv-cache bytes per model
 * (each bar labelled with its value), so the saving a conversion promises and the speed it buys are seen together.
 */
public final class DecodeChart {
    public static final int WIDTH = 560, HEIGHT = 460;

    private DecodeChart() {}

    /** Draws {@code results} (in order) under the heading {@code title}. */
    public static void write(String title, List<DecodeResult> results, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> names = results.stream().map(DecodeResult::model).toList();
        CategoryChart speed = chart("decode speed", "decode tokens/s (higher is better)", names,
                results.stream().map(r -> (Number) r.decodeTokensPerSecond()).toList(), new Color(0x1f77b4), "#,##0");
        CategoryChart kv = chart("kv cache", "kv-cache MiB, computed (lower is better)", names,
                results.stream().map(r -> (Number) (r.kvBytesComputed() / (double) (1 << 20))).toList(), new Color(0xff7f0e), "#,##0.#");
        BufferedImage sheet = ChartSheet.tile(List.of(speed, kv), 2, title).image();
        ChartSheet.writePng(sheet, png);
    }

    static CategoryChart chart(String title, String yTitle, List<String> names, List<Number> values, Color color, String pattern) {
        CategoryChart chart = new CategoryChart(WIDTH, HEIGHT, Styler.ChartTheme.XChart);
        chart.setTitle(title);
        chart.setYAxisTitle(yTitle);
        chart.addSeries(yTitle, names, values);
        var s = chart.getStyler();
        s.setLegendVisible(false);
        s.setSeriesColors(new Color[] {color});
        s.setLabelsVisible(true);
        s.setLabelsFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
        s.setYAxisDecimalPattern(pattern);
        s.setYAxisMin(0.0);
        ChartLook.apply(s, 11);
        s.setPlotGridVerticalLinesVisible(false);
        s.setXAxisLabelRotation(15);
        return chart;
    }
}
