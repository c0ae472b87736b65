"""Knowledge about an implementation lives with it: no id is spelled out elsewhere.

The harness (``compare/src`` outside the ``registry`` package) and the contract
suite (``tests/``) read the registry's fields; a string that names an
implementation by its id there would be a table keyed by id, which a new
implementation would have to find and extend. Test data in ``compare/tests``
may name ids.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bgref_compare.registry import IMPL_IDS

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "compare" / "src" / "bgref_compare" / "registry"
# An id as a word of its own: not part of a path, a package name or a longer word.
_IDS = "|".join(map(re.escape, IMPL_IDS))
ID = re.compile(rf"(?<![\w/.-])({_IDS})(?![\w/-])")


def _sources() -> list[Path]:
    files = [*(ROOT / "compare" / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    return sorted(path for path in files if not path.is_relative_to(REGISTRY))


def _ids_named(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        # Every string: literals, docstrings and the literal parts of f-strings.
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {match.group(1)!r}"
                for match in ID.finditer(node.value)
            ]
    return found


def test_no_implementation_id_outside_the_registry() -> None:
    sources = _sources()
    assert len(sources) > 50, "the scan found too few files: wrong root?"
    named = [found for path in sources for found in _ids_named(path)]
    assert not named, "implementation ids outside the registry:\n" + "\n".join(named)


def test_the_scan_finds_an_id() -> None:
    # The pattern must catch what it is for, whatever the registry's ids are.
    source = f'X = "{IMPL_IDS[0]}"\nY = f"{{x}} and `{IMPL_IDS[-1]}`"\nZ = "bgref_{IMPL_IDS[0]}"\n'
    tree = ast.parse(source)
    values = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    hits = [m.group(1) for value in values for m in ID.finditer(str(value))]
    assert hits == [IMPL_IDS[0], IMPL_IDS[-1]]
