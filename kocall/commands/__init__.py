"""The `kocall` subcommands, one module per command group."""
