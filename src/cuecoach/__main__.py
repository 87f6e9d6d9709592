"""`python -m cuecoach` runs the command line (through `cli/entry.py`, as the `cuecoach` command does)."""

from cuecoach.cli.entry import main

main()
