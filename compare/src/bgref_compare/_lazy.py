"""A package's names loaded on first use: its ``__getattr__`` from a table of names to modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, modules: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``modules[name]`` when first asked.

    The modules are relative to ``package`` (``"._report"``). Every process of
    the comparison imports the top-level package, load generators included, so
    what it re-exports from heavy modules (psutil, matplotlib) loads this way.
    """

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
