"""`python -m ucp.cli` runs the `ucp` command."""

from ucp.cli.main import run

run()
