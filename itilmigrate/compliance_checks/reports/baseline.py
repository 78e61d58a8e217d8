"""Read a previous run's JSON report as the baseline of known findings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from itilmigrate.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


class BaselineError(ConfigError):
    """The baseline file is not a report written by ``itilmigrate check``."""


def load_baseline(path: Path) -> frozenset[str]:
    """Return the finding ids of a previous run's ``report.json``.

    Waived findings of that run count as known too: a waiver that expires must
    not turn an old defect into a new one.

    Raises:
        BaselineError: The file cannot be read or is not a check report (exit 3).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BaselineError(
            f"Cannot read the baseline ({exc.strerror or type(exc).__name__}); pass "
            "the report.json of a previous 'itilmigrate check'.",
            path=str(path),
        ) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise BaselineError(
            f"Cannot read the baseline as JSON ({type(exc).__name__}); pass the "
            "report.json of a previous 'itilmigrate check'.",
            path=str(path),
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(
            "Not a check report: no 'findings' list. Pass the report.json of a "
            "previous 'itilmigrate check'.",
            path=str(path),
        )
    ids = set()
    for entry in [*data["findings"], *data.get("waived", [])]:
        if isinstance(entry, dict) and isinstance(entry.get("finding_id"), str):
            ids.add(entry["finding_id"])
    return frozenset(ids)
