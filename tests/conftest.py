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
    """Undo the logging set-up of a CLI test after it.

    ``itilmigrate`` commands give the package logger their own stderr handler and
    stop it propagating; left in place, later tests' ``caplog`` (on the root
    logger) would see nothing, and pass or fail by test order.
    """
    package = logging.getLogger("itilmigrate")
    warnings_logger = logging.getLogger("py.warnings")
    saved = (package.handlers[:], package.level, package.propagate)
    saved_warnings = warnings_logger.handlers[:]
    yield
    package.handlers[:], package.level, package.propagate = saved
    warnings_logger.handlers[:] = saved_warnings
    logging.captureWarnings(False)
