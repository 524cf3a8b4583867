package io.headfuse.converter;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.calib.CalibrationStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Runs the original model over calibration text and gathers {@link CalibrationStats} for activation-informed strategies. */
public final class Calibration {
    private Calibration() {}

    public static CalibrationStats gather(Checkpoint model, List<Path> files, int tokens, Progress progress) throws IOException {
        throw new UnsupportedOperationException("calibration is not wired to the runtime yet");
    }
}
