"""House rules that a reviewer would otherwise check by hand (STYLE sections 2, 7)."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "itilmigrate"


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_limitation_comment_has_when_and_then_lines():
    incomplete = []
    for path in _sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "# LIMITATION:" not in line:
                continue
            following = [text.strip() for text in lines[number + 1 : number + 3]]
            if not (
                len(following) == 2
                and following[0].startswith("# When:")
                and following[1].startswith("# Then:")
            ):
                incomplete.append(f"{path.relative_to(PACKAGE)}:{number + 1}")

    assert incomplete == []


def test_package_has_no_unexplained_markers():
    marker = re.compile(r"\b(TODO|FIXME|XXX|HACK)\b")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if marker.search(line)
    ]

    assert found == []


def test_only_the_adapter_imports_great_expectations():
    importers = [
        path.relative_to(PACKAGE).as_posix()
        for path in _sources()
        if re.search(
            r"^\s*(import|from) great_expectations", path.read_text(), re.MULTILINE
        )
    ]

    assert set(importers) <= {"compliance_checks/gx_adapter.py"}
