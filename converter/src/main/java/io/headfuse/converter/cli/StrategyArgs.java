package io.headfuse.converter.cli;

import io.headfuse.converter.ConvertOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code --strategy} and every strategy's flags, shared by convert and plan. Each flag belongs to the strategies
 * that list it; giving one that the chosen strategy does not take is a usage error, never silently ignored. A new
 * strategy adds its {@link StrategyFlags} to {@link #ALL}.
 */
final class StrategyArgs {
    static final List<StrategyFlags> ALL = List.of(new MeanFlags(), new AsymFlags(), new DhaFlags());
    static final String DEFAULT = "mean";
    /** Fresh each time: commons-cli options hold parsed values. */
    private static List<Option> calibration() {
        return List.of(
                Option.builder().longOpt("calib").hasArgs().argName("FILE").desc("calibration text file(s) (asym, dha; required)").build(),
                Option.builder().longOpt("calib-tokens").hasArg().argName("N").desc("calibration tokens (asym, dha; default 65536)").build(),
                Option.builder().longOpt("calib-device").hasArg().argName("D").desc("where calibration runs: cpu (default), gpu or gpu:N").build(),
                Option.builder().longOpt("calib-layerwise").hasArg().argName("M").desc("auto (default: one decoder layer at a time when the "
                        + "model does not fit the device), yes or no").build());
    }

    private StrategyArgs() {}

    static void addTo(Options o) {
        StringBuilder names = new StringBuilder("one of:");
        for (StrategyFlags f : ALL) names.append(' ').append(f.description()).append(';');
        o.addOption(Option.builder().longOpt("strategy").hasArg().argName("NAME").desc(names.substring(0, names.length() - 1)).build());
        for (Option opt : owners().keySet().stream().map(StrategyArgs::option).toList()) o.addOption(opt);
    }

    /** The strategy's options from the command line, checked against the flags it takes. */
    static ConvertOptions apply(CommandLine cl, ConvertOptions o) throws UsageException {
        String name = cl.getOptionValue("strategy", DEFAULT);
        StrategyFlags flags = ALL.stream().filter(f -> f.strategy().equals(name)).findFirst().orElseThrow(() -> new UsageException(
                "unknown strategy '" + name + "' (known: " + String.join(", ", ALL.stream().map(StrategyFlags::strategy).toList()) + ")"));
        for (var e : owners().entrySet()) {
            if (cl.hasOption(e.getKey()) && !e.getValue().contains(name))
                throw new UsageException("--" + e.getKey() + " is an option of --strategy " + String.join("|", e.getValue()) + ", not of " + name);
        }
        if (flags.calibrated()) {
            String[] calib = cl.getOptionValues("calib");
            if (calib == null || calib.length == 0) throw new UsageException("--strategy " + name + " needs calibration text: --calib FILE");
            int tokens = Args.intValue(cl, "calib-tokens", ConvertOptions.DEFAULT_CALIB_TOKENS);
            if (tokens <= 0) throw new UsageException("--calib-tokens must be positive, got " + tokens);
            o = o.withCalibration(Arrays.stream(calib).map(Path::of).toList(), tokens);
            String device = cl.getOptionValue("calib-device", "cpu").toLowerCase(java.util.Locale.ROOT);
            if (!device.matches("cpu|(gpu|cuda)(:\\d+)?")) throw new UsageException("--calib-device expects cpu, gpu or gpu:N, got '" + device + "'");
            String mode = cl.getOptionValue("calib-layerwise", "auto");
            if (!List.of("auto", "yes", "no").contains(mode)) throw new UsageException("--calib-layerwise must be one of auto, yes, no, got '" + mode + "'");
            o = o.withCalibrationDevice(device, io.headfuse.converter.Calibration.Mode.parse(mode));
        }
        try {
            return o.withStrategy(flags.parse(cl));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Flag name -> the strategies that take it, in registration order. */
    private static Map<String, Set<String>> owners() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        for (StrategyFlags f : ALL) {
            List<Option> own = new ArrayList<>(f.options());
            if (f.calibrated()) own.addAll(calibration());
            for (Option opt : own) m.computeIfAbsent(opt.getLongOpt(), k -> new LinkedHashSet<>()).add(f.strategy());
        }
        return m;
    }

    private static Option option(String longOpt) {
        for (Option c : calibration()) if (c.getLongOpt().equals(longOpt)) return c;
        for (StrategyFlags f : ALL) for (Option opt : f.options()) if (opt.getLongOpt().equals(longOpt)) return opt;
        throw new IllegalStateException(longOpt);
    }
}
