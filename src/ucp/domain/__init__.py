"""Pure domain core: no I/O, no imports from other ucp packages."""
