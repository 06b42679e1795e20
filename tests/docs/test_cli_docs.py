"""The command-line blocks of the docs run (filled in below)."""

CLI_LANGS: set[str] = set()
