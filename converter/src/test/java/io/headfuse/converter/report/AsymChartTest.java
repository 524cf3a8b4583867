package io.headfuse.converter.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AsymChartTest {
    @TempDir Path tmp;

    /** Made-up perplexities in the table's shape (7 variants x kv 4 and 2), so no model has to run. */
    static List<AsymBench.Row> fakeRows() {
        String[] variants = {"mean", "asym decoupled", "asym+align decoupled", "asym+align+lsq decoupled",
                "asym coupled", "asym+align coupled", "asym+align+lsq coupled"};
        double[] kv4 = {48.2, 31.7, 27.9, 19.4, 33.0, 29.1, 21.6}, kv2 = {310.5, 140.2, 118.7, 61.3, 151.9, 126.4, 70.8};
        List<AsymBench.Row> rows = new ArrayList<>();
        for (int i = 0; i < variants.length; i++) {
            rows.add(new AsymBench.Row(variants[i], 4, kv4[i], 1.0));
            rows.add(new AsymBench.Row(variants[i], 2, kv2[i], 1.0));
        }
        return rows;
    }

    @Test void writesGroupedBarChartPng() throws Exception {
        Path png = tmp.resolve("sub/asym-table.png");
        AsymChart.write("FAKE NUMBERS - asym table test", 8, 9.8, fakeRows(), png);
        assertTrue(Files.size(png) > 1000);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(AsymChart.WIDTH, img.getWidth());
        assertEquals(AsymChart.HEIGHT, img.getHeight());
        // The series colours are on the sheet: bars for both kv counts were drawn.
        assertTrue(count(img, 0x1f77b4) > 500 && count(img, 0xff7f0e) > 500);
    }

    /** A variant missing at one kv count (a table still being filled) or diverged (NaN) leaves a gap. */
    @Test void toleratesMissingCells() throws Exception {
        List<AsymBench.Row> rows = new ArrayList<>(fakeRows());
        rows.removeLast();
        rows.set(0, new AsymBench.Row("mean", 4, Double.NaN, 1.0));
        rows.set(1, new AsymBench.Row("mean", 2, Double.POSITIVE_INFINITY, 1.0));
        Path png = tmp.resolve("partial.png");
        AsymChart.write("partial", 8, 9.8, rows, png);
        assertEquals(AsymChart.WIDTH, ImageIO.read(png.toFile()).getWidth());
    }

    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
        return n;
    }
}
