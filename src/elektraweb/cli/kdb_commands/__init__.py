"""The commands of `kdb`, one module per group (`elektraweb.cli.kdb` imports only one)."""
