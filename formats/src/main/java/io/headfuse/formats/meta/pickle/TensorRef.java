package io.headfuse.formats.meta.pickle;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a view of {@code storage} starting at element
 * {@code offset}, with the given shape and strides (in elements). Nothing is checked here beyond types; the
 * archive reader checks it against the storage, where it knows the tensor's name.
 */
public record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {
    public TensorRef {
        shape = shape.clone();
        stride = stride.clone();
    }

    @Override public long[] shape() { return shape.clone(); }

    @Override public long[] stride() { return stride.clone(); }

    public long numel() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /**
     * True when the strides are those of a row-major tensor of this shape (dims of size 1 may have any stride).
     * A shape of more than 2^63 elements is not contiguous in any storage, so an overflow answers false.
     */
    public boolean isContiguous() {
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expect) return false;
            try {
                expect = Math.multiplyExact(expect, shape[i]);
            } catch (ArithmeticException e) {
                return false;
            }
        }
        return true;
    }
}
