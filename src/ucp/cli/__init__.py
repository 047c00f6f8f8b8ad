"""The `ucp` command-line shell."""
