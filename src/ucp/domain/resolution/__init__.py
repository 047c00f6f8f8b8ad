"""Identity resolution: records in, a partition into persons out (design.md §3).

`Resolver` is the seam: the deterministic resolver here links on shared identifiers under the
identifier rules; the probabilistic engine plugs in behind the same protocol.
"""

from ucp.domain.resolution.assignment import Assignment, ProfileChange, assign_profiles
from ucp.domain.resolution.deterministic import DeterministicResolver, IdentifierPolicy
from ucp.domain.resolution.resolver import Cluster, Resolver

__all__ = [
    "Assignment",
    "Cluster",
    "DeterministicResolver",
    "IdentifierPolicy",
    "ProfileChange",
    "Resolver",
    "assign_profiles",
]
