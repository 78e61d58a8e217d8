"""Root fixtures and settings shared by every test package."""

from __future__ import annotations

import os

from hypothesis import settings

# `dev` keeps Hypothesis' defaults; `ci` is derandomized so a red build replays the
# same examples, and smaller so the property tests stay quick. Neither has a
# deadline: the first call into pandas can take longer than the 200 ms default on
# a loaded machine, which would make the property tests flaky rather than strict.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
