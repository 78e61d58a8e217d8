"""Settings for tests that need a real database server, ODBC driver or shared data.

Every test in this folder is marked ``integration``. Tests skip only when what
they need is genuinely absent, and fail instead when ``CI=true``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder as ``integration``."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)
