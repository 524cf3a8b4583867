package io.headfuse.converter.cli;

import io.headfuse.converter.Headfuse;
import io.headfuse.converter.ModelInfo;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** {@code headfuse inspect MODEL}: architecture, size and KV-cache cost of a checkpoint. */
final class InspectCommand implements Command, Main.PositionalArgs {
    @Override public String name() { return "inspect"; }
    @Override public String summary() { return "show a checkpoint's architecture, size and KV-cache bytes"; }
    @Override public String usage() { return "MODEL"; }
    @Override public Options options() { return new Options(); }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        if (cl.getArgList().size() != 1) throw new UsageException("expected one MODEL (a folder or llama2.c .bin file)");
        ModelInfo info = Headfuse.inspect(Path.of(cl.getArgList().get(0)));
        out.print(info.describe());
        return 0;
    }
}
