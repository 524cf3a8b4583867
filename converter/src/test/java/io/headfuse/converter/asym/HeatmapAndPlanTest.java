package io.headfuse.converter.asym;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.cli.Main;
import io.headfuse.converter.report.SimilarityHeatmap;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeatmapAndPlanTest {
    @TempDir Path tmp;

    @Test void heatmapMarksGroupsAndReadsBack() throws Exception {
        double[][] sim = {{1, 0.9, 0.1, -0.2}, {0.9, 1, 0, 0}, {0.1, 0, 1, 0.5}, {-0.2, 0, 0.5, 1}};
        List<SimilarityHeatmap.Panel> panels = List.of(new SimilarityHeatmap.Panel("layer 0 K", sim, new int[][] {{0, 1}, {2, 3}}),
                new SimilarityHeatmap.Panel("layer 0 V", sim, new int[][] {{0, 2}, {1, 3}}));
        String heading = "a heading long enough to need wrapping at some point, surely, yes";
        Path png = tmp.resolve("h.png");
        SimilarityHeatmap.write(panels, 2, heading, png);
        BufferedImage img = ImageIO.read(png.toFile());
        SimilarityHeatmap.Rendered r = SimilarityHeatmap.render(panels, 2, heading);
        assertEquals(r.image().getWidth(), img.getWidth());
        assertEquals(r.image().getHeight(), img.getHeight());

        // One square plot per panel, side by side, all the same size and inside the sheet.
        assertEquals(2, r.plots().size());
        Rectangle k = r.plots().get(0), v = r.plots().get(1);
        assertTrue(k.width >= 4 * 6 && k.width == k.height && v.width == k.width && v.height == k.height, r.plots().toString());
        assertTrue(k.x + k.width <= v.x && Math.abs(k.y - v.y) <= 1, r.plots().toString());
        assertTrue(new Rectangle(img.getWidth(), img.getHeight()).contains(v), r.plots().toString());

        // Heads listed group by group: K lists 0 1 2 3, V lists 0 2 1 3. The diagonal is self-similarity 1 (red);
        // K row 0 col 3 is head 0 vs head 3 = -0.2 (blue side), V row 0 col 1 is head 0 vs head 2 = 0.1 (red side).
        double cell = k.width / 4.0;
        for (Rectangle p : r.plots()) for (int i = 0; i < 4; i++) assertEquals(0xff0000, rgb(img, p, cell, i, i));
        int kNeg = rgb(img, k, cell, 0, 3), vPos = rgb(img, v, cell, 0, 1);
        assertTrue((kNeg & 0xff) > (kNeg >> 16 & 0xff), Integer.toHexString(kNeg));
        assertTrue((vPos >> 16 & 0xff) > (vPos & 0xff), Integer.toHexString(vPos));
        // Each group's block is outlined: dark pixels on the boundary between the two blocks, not inside one.
        for (Rectangle p : r.plots()) {
            assertTrue(darkNear(img, (int) Math.round(p.x + 2 * cell), (int) Math.round(p.y + cell)), "box edge");
            assertTrue(darkNear(img, (int) Math.round(p.x + cell), (int) Math.round(p.y + 2 * cell)), "box edge");
            assertTrue(!darkNear(img, (int) Math.round(p.x + cell), (int) Math.round(p.y + cell / 2)), "inside a block");
        }
        assertEquals(8, squareRedCells(img), "2 panels x 4 diagonal cells");
    }

    /** The colour at the middle of cell (row, col) of a plot. */
    private static int rgb(BufferedImage img, Rectangle plot, double cell, int row, int col) {
        return img.getRGB((int) (plot.x + (col + 0.5) * cell), (int) (plot.y + (row + 0.5) * cell)) & 0xffffff;
    }

    private static boolean darkNear(BufferedImage img, int x, int y) {
        for (int dx = -1; dx <= 1; dx++) {
            int c = img.getRGB(x + dx, y);
            if ((c >> 16 & 0xff) < 80 && (c >> 8 & 0xff) < 80 && (c & 0xff) < 80) return true;
        }
        return false;
    }

    /**
     * Square patches of pure red at least 8 pixels wide: the self-similarity cells on each panel's diagonal (the
     * colour scale's red end is a strip, not a square), so a sheet shows panels x heads of them.
     */
    static int squareRedCells(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight(), n = 0;
        boolean[] seen = new boolean[w * h];
        int[] stack = new int[w * h];
        for (int start = 0; start < w * h; start++) {
            if (seen[start] || (img.getRGB(start % w, start / w) & 0xffffff) != 0xff0000) continue;
            int top = 0, x0 = w, x1 = -1, y0 = h, y1 = -1;
            stack[top++] = start;
            seen[start] = true;
            while (top > 0) {
                int p = stack[--top], x = p % w, y = p / w;
                x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
                int[] next = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
                for (int q : next)
                    if (q >= 0 && !seen[q] && (img.getRGB(q % w, q / w) & 0xffffff) == 0xff0000) {
                        seen[q] = true;
                        stack[top++] = q;
                    }
            }
            int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
            if (bw >= 8 && Math.abs(bw - bh) <= 2) n++;
        }
        return n;
    }

    /** Every file under a folder with its size and modification time. */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (var files = Files.walk(dir)) {
            for (Path f : files.toList())
                out.put(dir.relativize(f).toString(), Files.isRegularFile(f) ? Files.size(f) + " " + Files.getLastModifiedTime(f) : "dir");
        }
        return out;
    }

    /** {@code headfuse plan} on headfuse-mha-s with a little calibration text: prints the groups and draws the PNG. */
    @Test void planCommandPrintsGroupsAndDrawsHeatmaps() throws Exception {
        Path model = Assets.model("headfuse-mha-s");
        Path png = tmp.resolve("plan.png");
        Map<String, String> before = snapshot(model);
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"plan", "--model", model.toString(), "--kv-heads", "2", "--strategy", "asym", "--calib",
                Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "2048", "--align", "--png", png.toString()}, new PrintStream(out), new PrintStream(err));
        String text = out.toString();
        System.out.print(text);
        assertEquals(0, rc, err.toString());
        assertTrue(text.contains("layer  0  K ["), text);
        assertTrue(text.contains("mean-pool"), text);
        // headfuse-mha-s: 4 layers x {K, V} panels of 8 heads, two to a row.
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 2 * 8 * 6 && img.getHeight() > img.getWidth(), img.getWidth() + "x" + img.getHeight());
        assertEquals(4 * 2 * 8, squareRedCells(img), "one panel per layer x {K, V}, one red self-similarity cell per head");
        // plan writes nothing but the PNG it was asked for: the folder holding it has nothing else, and the model
        // folder (the only other place it touches) is exactly as it was.
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(png), files.toList(), "plan wrote only --png");
        }
        assertEquals(before, snapshot(model), "the model folder is unchanged");
    }
}
