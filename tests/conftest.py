"""Root fixtures and settings shared by every test package."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from collections.abc import Iterator

# `dev` keeps Hypothesis' defaults; `ci` is derandomized so a red build replays the
# same examples, and smaller so the property tests stay quick. Neither has a
# deadline: the first call into pandas can take longer than the 200 ms default on
# a loaded machine, which would make the property tests flaky rather than strict.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put the package logger back as importing it leaves it, after every test.

    ``itilmigrate`` commands give the package logger their own stderr handler and
    stop it propagating; left in place, later tests' ``caplog`` (on the root
    logger) would see nothing, and pass or fail by test order. A module-scoped
    fixture may run a command before this fixture starts, so the logger is reset
    to its import-time state rather than to whatever it was.
    """
    yield
    for name in ("itilmigrate", "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    logging.captureWarnings(False)
