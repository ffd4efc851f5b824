"""The command line: one module per command, no business logic."""
