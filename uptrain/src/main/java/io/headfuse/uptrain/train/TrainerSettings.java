package io.headfuse.uptrain.train;

/**
 * How a run is watched, apart from the recipe (none of these change the weights it produces).
 *
 * @param evalEvery     evaluate the held-out slices every this many training tokens (0: before and after only)
 * @param evalWindow    tokens per evaluation window
 * @param evalMaxTokens evaluate at most this many tokens of each slice (0: all); applied where the slices are made
 *                      ({@link TrainingData.Slice#capped}), since cutting tokens needs the tokenizer
 * @param logEvery      read the loss back every this many steps (0: about 100 points per run). Each read waits
 *                      for the device, so on a GPU fewer reads mean more overlap between Java and the kernels
 * @param saveEvery     write a resumable state every this many training tokens (0: never)
 */
public record TrainerSettings(long evalEvery, int evalWindow, long evalMaxTokens, int logEvery, long saveEvery) {
    public TrainerSettings {
        if (evalEvery < 0 || evalMaxTokens < 0 || logEvery < 0 || saveEvery < 0)
            throw new IllegalArgumentException("eval/log/save intervals must be >= 0");
        if (evalWindow < 2) throw new IllegalArgumentException("eval window must be at least 2 tokens, got " + evalWindow);
    }

    public static TrainerSettings defaults(int evalWindow) { return new TrainerSettings(0, evalWindow, 0, 0, 0); }

    public TrainerSettings withEvalEvery(long n) { return new TrainerSettings(n, evalWindow, evalMaxTokens, logEvery, saveEvery); }

    public TrainerSettings withEvalMaxTokens(long n) { return new TrainerSettings(evalEvery, evalWindow, n, logEvery, saveEvery); }

    public TrainerSettings withLogEvery(int n) { return new TrainerSettings(evalEvery, evalWindow, evalMaxTokens, n, saveEvery); }

    public TrainerSettings withSaveEvery(long n) { return new TrainerSettings(evalEvery, evalWindow, evalMaxTokens, logEvery, n); }

    /** The log interval for a run of {@code steps} steps. */
    int logInterval(int steps) { return logEvery > 0 ? logEvery : Math.max(1, steps / 100); }
}
