"""What the scenarios send to: the paths of the contract, and the variants an
implementation is measured in.

Every scenario module and the plan name the same paths and the same default
variant, so they are defined once, here, beside the variants a profile runs.
"""

from __future__ import annotations

from bgref_compare._profile import Profile
from bgref_compare.registry import Impl, Variant

from ._labplan import lab_variants

__all__ = ["DEFAULT_VARIANT", "SEND_PATH"]

SEND_PATH = "/send-message/"
BASELINE_PATH = "/baseline/"
DEFAULT_VARIANT = "default"


def _variants(impl: Impl, profile: Profile) -> list[tuple[str, str]]:
    measured = [(v.name, v.path) for v in lab_variants(impl, profile.variants_per_impl)]
    return [(DEFAULT_VARIANT, SEND_PATH), *measured]


def _lab_variant(impl: Impl, name: str) -> Variant | None:
    return None if name == DEFAULT_VARIANT else impl.variant(name)
