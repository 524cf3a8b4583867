package io.headfuse.formats.safetensors;

import io.headfuse.formats.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The rules an output folder must pass before anything is written, shared by every writer (convert, uptrain):
 * never inside, around or equal to an input (compared by real paths, so a symlink cannot hide it), and an existing
 * folder is replaced only under {@code force} and only when it is clearly an earlier model output. A user's home
 * folder or project must never be deleted because {@code --out} named it by mistake.
 */
public final class OutputTarget {
    /** The report every headfuse output carries: a folder holding it is headfuse's own. */
    public static final String REPORT = "headfuse.json";
    /** Names a checkpoint folder holds (besides *.safetensors and headfuse's PNGs). */
    private static final Set<String> CHECKPOINT_FILES = Set.of("config.json", HfCheckpoint.INDEX, REPORT);

    private OutputTarget() {}

    /** Refuses targets that would lose data; call before any expensive work so errors come early. */
    public static void check(Path target, boolean force, List<Path> inputs) throws IOException {
        Path real = realPath(target);
        for (Path in : inputs) {
            Path i = realPath(in);
            Path inDir = Files.isRegularFile(i) ? i.getParent() : i;
            if (real.startsWith(inDir) || inDir.startsWith(real))
                throw new CheckpointException(target, "output folder overlaps the input " + in + " (real paths " + real + " and " + inDir + "): choose another --out");
        }
        Path parent = real.getParent();
        if (parent != null && Files.exists(parent) && !Files.isDirectory(parent))
            throw new CheckpointException(target, "parent " + parent + " is not a folder");
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isSymbolicLink(target))
            throw new CheckpointException(target, "output is a symbolic link; name the real folder as --out");
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS))
            throw new CheckpointException(target, "output exists and is not a folder");
        if (!force) throw new CheckpointException(target, "output already exists (use --force to replace it)");
        String foreign = foreignEntry(target);
        if (foreign != null)
            throw new CheckpointException(target, "--force replaces only an earlier model output (headfuse.json, or only checkpoint files), but this folder holds "
                    + foreign + ": refusing to delete it");
    }

    /**
     * Null when {@code dir} may be replaced: it is empty, holds headfuse's report, or holds only checkpoint
     * files; otherwise the first entry that makes it someone else's folder.
     */
    static String foreignEntry(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(REPORT), LinkOption.NOFOLLOW_LINKS)) return null;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return "'" + name + "' (not a plain file)";
                if (!isCheckpointFile(name)) return "'" + name + "'";
            }
        }
        return null;
    }

    static boolean isCheckpointFile(String name) {
        return CHECKPOINT_FILES.contains(name) || HfCheckpoint.SIDE_FILES.contains(name) || name.endsWith(".safetensors")
                || (name.endsWith(".png") && name.startsWith("head-similarity"));
    }

    /**
     * The real path of {@code p}, which need not exist yet: the longest existing prefix resolved through its
     * symlinks, then the rest appended as written ({@code ..} already normalized away).
     */
    public static Path realPath(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return abs;
        return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
    }
}
