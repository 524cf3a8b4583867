package io.headfuse.converter.cli;

import io.headfuse.fusion.StrategyOptions;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;

/**
 * {@code --strategy dha}: per-layer K/V budgets priced by the calibration loss of collapsing each layer, K and V
 * sharing a grouping per layer by default. {@code --decoupled} and {@code --seed} are shared with asym (same
 * meaning: K and V grouped separately; the seed of the swap search, which only {@code --uniform} runs).
 */
final class DhaFlags implements StrategyFlags {
    @Override public String strategy() { return DhaStrategy.NAME; }
    @Override public String description() { return "dha: per-layer K/V head budgets (decoupled-head attention) at the KV bytes of N kv heads"; }
    @Override public boolean calibrated() { return true; }

    @Override
    public List<Option> options() {
        return List.of(
                Option.builder().longOpt("uniform").desc("dha: export the nearest uniform layout (asym --align --lsq --coupled), a standard GQA checkpoint").build(),
                Option.builder().longOpt("decoupled").desc("K and V of a layer get their own groups (and, for dha, their own counts)").build(),
                Option.builder().longOpt("difficulty").hasArg().argName("D").desc("dha: price head counts by the calibration loss of collapsing "
                        + "each layer (loss, default) or by the reconstruction error (reconstruction)").build(),
                Option.builder().longOpt("probe-tokens").hasArg().argName("N").desc("dha: calibration tokens each loss probe evaluates (default "
                        + DhaOptions.DEFAULT_PROBE_TOKENS + ")").build(),
                Option.builder().longOpt("data").hasArgs().argName("FILE").desc("dha: learned fusion: train the groups' fusion operators on this text "
                        + "(distillation + augmented Lagrangian) before they collapse (default: zero-shot collapse)").build(),
                Option.builder().longOpt("tokens").hasArg().argName("N").desc("dha: tokens of learned fusion (default "
                        + DhaOptions.DEFAULT_FUSION_TOKENS + "; needs --data)").build(),
                Option.builder().longOpt("device").hasArg().argName("D").desc("dha: where learned fusion trains: cpu (default), gpu or gpu:N (needs --data)").build(),
                Option.builder().longOpt("seed").hasArg().argName("S").desc("seed of the grouping search (asym, dha --uniform; default 0)").build());
    }

    @Override
    public StrategyOptions parse(CommandLine cl) throws UsageException {
        DhaOptions o = DhaOptions.defaults().withUniform(cl.hasOption("uniform")).withCoupled(!cl.hasOption("decoupled"));
        String d = cl.getOptionValue("difficulty");
        if (d != null) {
            if (!List.of("loss", "reconstruction").contains(d))
                throw new UsageException("--difficulty must be one of loss, reconstruction, got '" + d + "'");
            o = o.withDifficulty(DhaOptions.Difficulty.valueOf(d.toUpperCase(Locale.ROOT)));
        }
        o = o.withSeed(Args.longValue(cl, "seed", o.seed()));
        if (cl.hasOption("probe-tokens")) o = o.withProbeTokens(Args.intValue(cl, "probe-tokens", DhaOptions.DEFAULT_PROBE_TOKENS));
        String[] data = cl.getOptionValues("data");
        if (data == null && (cl.hasOption("tokens") || cl.hasOption("device")))
            throw new UsageException("--tokens and --device set up learned fusion, which needs --data FILE");
        if (data != null) {
            long tokens = Args.count(cl, "tokens", DhaOptions.DEFAULT_FUSION_TOKENS);
            if (tokens <= 0) throw new UsageException("--tokens must be positive, got " + tokens);
            String device = cl.getOptionValue("device", "cpu").toLowerCase(Locale.ROOT);
            if (!device.matches("cpu|(gpu|cuda)(:\\d+)?")) throw new UsageException("--device expects cpu, gpu or gpu:N, got '" + device + "'");
            o = o.withFusion(java.util.Arrays.stream(data).map(java.nio.file.Path::of).toList(), tokens, device);
        }
        if (o.uniform() && (cl.hasOption("decoupled") || d != null || cl.hasOption("probe-tokens")))
            throw new UsageException("--uniform exports asym's uniform layout: --decoupled, --difficulty and --probe-tokens do not apply");
        return o;
    }
}
