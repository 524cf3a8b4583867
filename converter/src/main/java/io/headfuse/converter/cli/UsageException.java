package io.headfuse.converter.cli;

/** Bad command-line arguments: the CLI prints the message and the command's usage, and exits with 2. */
public class UsageException extends Exception {
    public UsageException(String message) { super(message); }
}
