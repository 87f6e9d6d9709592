"""`python -m cuecoach` runs the command line (through `entry.py`, as the `cuecoach` command does)."""

from .entry import main

main()
