package io.headfuse.fusion.dha;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionResult;
import java.io.IOException;

/**
 * Learned fusion: turns a DHA plan into the collapsed model by training the groups' fusion operators first (the
 * converter provides one that runs the model; fusion/ only has the maths). Without one, {@link DhaStrategy}
 * collapses zero-shot. The result's plan carries the training log in its details.
 */
@FunctionalInterface
public interface GroupFuser {
    FusionResult fuse(Checkpoint in, FusionPlan plan, CalibrationStats stats) throws IOException;
}
