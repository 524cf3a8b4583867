package io.headfuse.converter.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.cli.Main;
import io.headfuse.converter.report.SimilarityHeatmap;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeatmapAndPlanTest {
    @TempDir Path tmp;

    @Test void heatmapMarksGroupsAndReadsBack() throws Exception {
        double[][] sim = {{1, 0.9, 0.1, -0.2}, {0.9, 1, 0, 0}, {0.1, 0, 1, 0.5}, {-0.2, 0, 0.5, 1}};
        Path png = tmp.resolve("h.png");
        SimilarityHeatmap.write(List.of(new SimilarityHeatmap.Panel("layer 0 K", sim, new int[][] {{0, 1}, {2, 3}}),
                new SimilarityHeatmap.Panel("layer 0 V", sim, new int[][] {{0, 2}, {1, 3}})), 2, "a heading long enough to need wrapping at some point, surely, yes", png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
    }

    /** {@code headfuse plan} on headfuse-mha-s with a little calibration text: prints the groups and draws the PNG. */
    @Test void planCommandPrintsGroupsAndDrawsHeatmaps() throws Exception {
        Path model = AsymAssets.model("headfuse-mha-s");
        Path png = tmp.resolve("plan.png");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"plan", "--model", model.toString(), "--kv-heads", "2", "--strategy", "asym", "--calib",
                AsymAssets.sotu().toString(), "--calib-tokens", "2048", "--align", "--png", png.toString()}, new PrintStream(out), new PrintStream(err));
        String text = out.toString();
        System.out.print(text);
        assertEquals(0, rc, err.toString());
        assertTrue(text.contains("layer  0  K ["), text);
        assertTrue(text.contains("mean-pool"), text);
        assertTrue(Files.size(png) > 1000);
        assertTrue(Files.notExists(tmp.resolve("config.json")), "plan writes no checkpoint");
    }
}
