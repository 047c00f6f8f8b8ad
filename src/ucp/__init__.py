"""ucp — Unified Customer Profile engine.

One accurate, explainable, privacy-respecting profile per real person, built from the scattered
records a business keeps about its customers.
"""

from ucp.errors import UCPError

__all__ = ["UCPError", "__version__"]

__version__ = "0.1.0"
