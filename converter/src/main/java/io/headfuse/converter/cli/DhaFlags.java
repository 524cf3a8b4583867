package io.headfuse.converter.cli;

import io.headfuse.fusion.StrategyOptions;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import io.headfuse.fusion.dha.FusionRecipe;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
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
                fusion("fusion-seq", "N", "tokens per learned-fusion training window (default " + FusionRecipe.DEFAULT_SEQ
                        + ", or the model's positions when fewer)"),
                fusion("fusion-batch", "N", "learned-fusion windows per optimiser step (default " + FusionRecipe.DEFAULT_BATCH + ")"),
                fusion("fusion-lr", "X", "peak learning rate of the weights during learned fusion (default " + FusionRecipe.DEFAULT_LR + ")"),
                fusion("operator-lr", "X", "learning rate of the fusion operators (default " + FusionRecipe.DEFAULT_OPERATOR_LR + ")"),
                fusion("fusion-rho", "X", "augmented-Lagrangian penalty weight and multiplier ascent step (default " + FusionRecipe.DEFAULT_RHO + ")"),
                fusion("multiplier-every", "N", "optimiser steps between multiplier updates (default " + FusionRecipe.DEFAULT_MULTIPLIER_EVERY + ")"),
                Option.builder().longOpt("seed").hasArg().argName("S").desc("seed of the grouping search (asym, dha --uniform; default 0)").build());
    }

    /** The flags that tune learned fusion; each needs --data. */
    private static final List<String> LEARNED = List.of("tokens", "device", "fusion-seq", "fusion-batch", "fusion-lr", "operator-lr", "fusion-rho",
            "multiplier-every");

    /** The learned-fusion flags {@code cl} gives, as "--name", with --data first when asked and given. */
    static List<String> learnedFusionFlags(CommandLine cl, boolean withData) {
        return Stream.concat(withData ? Stream.of("data") : Stream.empty(), LEARNED.stream())
                .filter(cl::hasOption).map(f -> "--" + f).toList();
    }

    private static Option fusion(String name, String arg, String desc) {
        return Option.builder().longOpt(name).hasArg().argName(arg).desc("dha: " + desc + "; needs --data").build();
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
        List<String> given = learnedFusionFlags(cl, false);
        if (data == null && !given.isEmpty())
            throw new UsageException(String.join(", ", given) + (given.size() == 1 ? " sets" : " set") + " up learned fusion, which needs --data FILE");
        if (data != null) {
            long tokens = Args.count(cl, "tokens", DhaOptions.DEFAULT_FUSION_TOKENS);
            if (tokens <= 0) throw new UsageException("--tokens must be positive, got " + tokens);
            String device = cl.getOptionValue("device", "cpu").toLowerCase(Locale.ROOT);
            if (!device.matches("cpu|(gpu|cuda)(:\\d+)?")) throw new UsageException("--device expects cpu, gpu or gpu:N, got '" + device + "'");
            o = o.withFusion(java.util.Arrays.stream(data).map(java.nio.file.Path::of).toList(), tokens, device);
            o = o.withFusionRecipe(recipe(cl));
        }
        if (o.uniform() && (cl.hasOption("decoupled") || d != null || cl.hasOption("probe-tokens")))
            throw new UsageException("--uniform exports asym's uniform layout: --decoupled, --difficulty and --probe-tokens do not apply");
        return o;
    }

    /** The learned-fusion recipe: the defaults, with each flag given replacing its value (validated by FusionRecipe). */
    private static FusionRecipe recipe(CommandLine cl) throws UsageException {
        FusionRecipe d = FusionRecipe.defaults();
        Integer seq = cl.hasOption("fusion-seq") ? Args.intValue(cl, "fusion-seq", 0) : null;   // left out: the default window, shrunk to a short model
        return new FusionRecipe(seq, Args.intValue(cl, "fusion-batch", d.batch()),
                Args.doubleValue(cl, "fusion-lr", d.lr()), Args.doubleValue(cl, "operator-lr", d.operatorLr()),
                Args.doubleValue(cl, "fusion-rho", d.rho()), Args.intValue(cl, "multiplier-every", d.multiplierEvery()));
    }
}
