package io.headfuse.formats.meta.pickle;

import io.headfuse.formats.DType;

/**
 * A torch storage named by a persistent id {@code ('storage', torch.XStorage, key, location, numel)}: its bytes
 * are the zip entry {@code <archive>/data/<key>}.
 */
public record StorageRef(String key, DType dtype, String location, long numel) {}
