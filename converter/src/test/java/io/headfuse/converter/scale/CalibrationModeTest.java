package io.headfuse.converter.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.converter.Calibration;
import io.headfuse.converter.Progress;
import io.headfuse.converter.cli.Main;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.model.LayerwiseCalibration;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration through the conversion API, whole-model and layer by layer; the CLI's choice of mode. */
class CalibrationModeTest {
    @Test
    void layerwiseModeGivesTheWholeModelStatistics() throws Exception {
        List<Path> text = List.of(Assets.text("sotu/sotu-1790-2021.txt"));
        try (Checkpoint ckpt = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            assertFalse(LayerwiseCalibration.needed(ckpt.config(), Device.cpu()), "a 7M-parameter model fits this machine's RAM");
            CalibrationStats whole = Calibration.gather(ckpt, text, 2048, Progress.NONE, Device.cpu(), Calibration.Mode.WHOLE_MODEL);
            CalibrationStats layered = Calibration.gather(ckpt, text, 2048, Progress.NONE, Device.cpu(), Calibration.Mode.LAYERWISE);
            CalibrationStats auto = Calibration.gather(ckpt, text, 2048, Progress.NONE);
            assertEquals(2048, whole.tokens());
            for (int l = 0; l < whole.layers(); l++) {
                assertArrayEquals(whole.secondMoment(l), layered.secondMoment(l), 1e-6, "layer " + l);
                assertArrayEquals(whole.mean(l), layered.mean(l), 1e-7, "layer " + l);
                assertArrayEquals(whole.secondMoment(l), auto.secondMoment(l), 0.0, "layer " + l);
            }
        }
    }

    @Test
    void badLayerwiseValueIsAUsageError(@TempDir Path tmp) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"convert", "--out", tmp.resolve("o").toString(), "--kv-heads", "2", "--strategy", "asym",
                "--calib", "README.md", "--calib-layerwise", "maybe"}, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
        assertEquals(2, code);
        assertTrue(err.toString().contains("--calib-layerwise must be one of auto, yes, no"), err.toString());
    }
}
