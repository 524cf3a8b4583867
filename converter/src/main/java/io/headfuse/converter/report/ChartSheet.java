package io.headfuse.converter.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Point;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * XChart charts tiled row by row on one white sheet under a heading. XChart's own
 * {@code BitmapEncoder.saveBitmap(List, rows, cols, ...)} wants every chart the same size and has no heading;
 * here a column is as wide as its widest chart (so a column that carries a colour legend may be wider).
 */
final class ChartSheet {
    private static final Font HEADING = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    private static final int PAD = 10, LINE = 16;

    /** The sheet and where each chart's top-left corner landed on it. */
    record Tiled(BufferedImage image, List<Point> origins) {}

    private ChartSheet() {}

    static Tiled tile(List<? extends Chart<?, ?>> charts, int columns, String heading) {
        System.setProperty("java.awt.headless", "true");
        int rows = (charts.size() + columns - 1) / columns;
        int[] colW = new int[columns], rowH = new int[rows];
        for (int i = 0; i < charts.size(); i++) {
            colW[i % columns] = Math.max(colW[i % columns], charts.get(i).getWidth());
            rowH[i / columns] = Math.max(rowH[i / columns], charts.get(i).getHeight());
        }
        int width = PAD;
        for (int w : colW) width += w;
        width += PAD;
        // The heading may be longer than the sheet is wide: wrap it at spaces.
        List<String> lines = wrap(heading, metrics(), width - 2 * PAD);
        int headingH = lines.isEmpty() ? PAD : LINE * lines.size() + PAD;
        int height = headingH;
        for (int h : rowH) height += h;
        height += PAD;

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        List<Point> origins = new ArrayList<>();
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.BLACK);
            g.setFont(HEADING);
            for (int i = 0; i < lines.size(); i++) g.drawString(lines.get(i), PAD, PAD + 8 + LINE * i);
            int y = headingH;
            for (int r = 0; r < rows; r++) {
                int x = PAD;
                for (int c = 0; c < columns && r * columns + c < charts.size(); c++) {
                    Point at = new Point(x, y);
                    g.drawImage(BitmapEncoder.getBufferedImage(charts.get(r * columns + c)), at.x, at.y, null);
                    origins.add(at);
                    x += colW[c];
                }
                y += rowH[r];
            }
        } finally {
            g.dispose();
        }
        return new Tiled(img, origins);
    }

    /** Writes {@code img} as a PNG, creating the folder it goes in. */
    static void writePng(BufferedImage img, Path png) throws IOException {
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.write(png, pngBytes(img));
    }

    /** {@code img} encoded as PNG. */
    static byte[] pngBytes(BufferedImage img) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG writer available");
        return out.toByteArray();
    }

    private static FontMetrics metrics() {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            return g.getFontMetrics(HEADING);
        } finally {
            g.dispose();
        }
    }

    static List<String> wrap(String text, FontMetrics fm, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String word : text.split(" ")) {
            if (word.isEmpty()) continue;
            if (cur.length() > 0 && fm.stringWidth(cur + " " + word) > width) {
                lines.add(cur.toString());
                cur.setLength(0);
            }
            if (cur.length() > 0) cur.append(' ');
            cur.append(word);
        }
        if (cur.length() > 0) lines.add(cur.toString());
        return lines;
    }
}
