"""Identity resolution: records in, a partition into persons out (design.md §3).

`Resolver` is the seam: the deterministic resolver links on shared identifiers under the
identifier rules; the probabilistic resolver (Fellegi–Sunter scoring, identifier links and
constrained clustering) plugs in behind the same protocol.
"""

from ucp.domain.resolution.assignment import Assignment, ProfileChange, assign_profiles
from ucp.domain.resolution.deterministic import DeterministicResolver, IdentifierPolicy
from ucp.domain.resolution.fs_model import Model
from ucp.domain.resolution.probabilistic import ProbabilisticResolver, Resolution
from ucp.domain.resolution.resolver import Cluster, Link, Resolver
from ucp.domain.resolution.scoring import PairScore
from ucp.domain.resolution.settings import BlockingRule, ComparisonSpec, ResolutionSettings
from ucp.domain.resolution.training import TrainingReport, train

__all__ = [
    "Assignment",
    "BlockingRule",
    "Cluster",
    "ComparisonSpec",
    "DeterministicResolver",
    "IdentifierPolicy",
    "Link",
    "Model",
    "PairScore",
    "ProbabilisticResolver",
    "ProfileChange",
    "Resolution",
    "ResolutionSettings",
    "Resolver",
    "TrainingReport",
    "assign_profiles",
    "train",
]
