package io.headfuse.converter.report;

import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.AsymStrategy;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Per-layer head-similarity heatmaps with the chosen groups marked: one row per layer, K on the left and V on
 * the right. Heads are listed group by group, so each group is a block on the diagonal, outlined in black; the
 * tick labels are the original head indices. Colour runs from blue (-1) through white (0) to red (1).
 * Drawn with Java2D (headless), so it needs no display.
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

    /** Lays {@code panels} out {@code columns} to a row under {@code heading} and writes a PNG. */
    public static void write(List<Panel> panels, int columns, String heading, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int heads = panels.stream().mapToInt(p -> p.similarity().length).max().orElse(1);
        int cell = Math.max(6, Math.min(28, 320 / heads));
        int margin = 34, titleH = 22, gap = 24, legendW = 70;
        int side = cell * heads;
        int panelW = margin + side + gap, panelH = titleH + side + margin;
        int rows = (panels.size() + columns - 1) / columns;
        int width = columns * panelW + legendW + 10;
        java.awt.FontMetrics fm = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics()
                .getFontMetrics(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        int headingH = 16 * wrap(heading, fm, width - 20).size() + 16;
        int height = headingH + rows * panelH + 10;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            // The heading may be longer than the grid is wide: wrap it at spaces.
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            int line = 0;
            for (String l : wrap(heading, g.getFontMetrics(), width - 20)) g.drawString(l, 10, 18 + 16 * line++);
            for (int i = 0; i < panels.size(); i++) {
                int x0 = (i % columns) * panelW + margin, y0 = headingH + (i / columns) * panelH + titleH;
                draw(g, panels.get(i), x0, y0, cell);
            }
            legend(g, columns * panelW + 10, headingH + titleH, Math.min(200, height - headingH - titleH - 20));
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        if (!ImageIO.write(img, "png", png.toFile())) throw new IOException("no PNG writer available");
    }

    private static void draw(Graphics2D g, Panel p, int x0, int y0, int cell) {
        int n = p.similarity().length;
        int[] order = new int[n];
        int k = 0;
        for (int[] grp : p.groups()) for (int h : grp) order[k++] = h;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.BLACK);
        g.drawString(p.title(), x0, y0 - 6);
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) {
                g.setColor(colour(p.similarity()[order[r]][order[c]]));
                g.fillRect(x0 + c * cell, y0 + r * cell, cell, cell);
            }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, Math.min(11, cell - 2))));
        g.setColor(Color.DARK_GRAY);
        for (int i = 0; i < n && cell >= 8; i++) {
            String s = Integer.toString(order[i]);
            g.drawString(s, x0 - 4 - g.getFontMetrics().stringWidth(s), y0 + i * cell + cell / 2 + 4);
            g.drawString(s, x0 + i * cell + (cell - g.getFontMetrics().stringWidth(s)) / 2, y0 + n * cell + 12);
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(2f));
        int start = 0;
        for (int[] grp : p.groups()) {
            g.drawRect(x0 + start * cell, y0 + start * cell, grp.length * cell, grp.length * cell);
            start += grp.length;
        }
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x0, y0, n * cell, n * cell);
    }

    private static void legend(Graphics2D g, int x, int y, int h) {
        for (int i = 0; i < h; i++) {
            g.setColor(colour(1 - 2.0 * i / (h - 1)));
            g.fillRect(x, y + i, 14, 1);
        }
        g.setColor(Color.BLACK);
        g.drawRect(x, y, 14, h);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString("1", x + 18, y + 8);
        g.drawString("0", x + 18, y + h / 2 + 4);
        g.drawString("-1", x + 18, y + h);
    }

    static List<String> wrap(String text, java.awt.FontMetrics fm, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String word : text.split(" ")) {
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

    /** Diverging blue-white-red. */
    static Color colour(double v) {
        double t = Math.max(-1, Math.min(1, Double.isNaN(v) ? 0 : v));
        int a = (int) Math.round(255 * (1 - Math.abs(t)));
        return t >= 0 ? new Color(255, a, a) : new Color(a, a, 255);
    }
}
