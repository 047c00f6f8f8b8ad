"""Synthetic multi-source customer data with ground truth (see docs/data.md)."""

from ucp.synth.rates import SOURCES, Rates
from ucp.synth.writer import Summary, generate

__all__ = ["SOURCES", "Rates", "Summary", "generate"]
