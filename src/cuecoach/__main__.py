"""`python -m cuecoach` runs the command line."""

from .cli import main

main()
