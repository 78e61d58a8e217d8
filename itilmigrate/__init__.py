"""Migrate legacy service-desk call logs into ITIL entities and check them."""

from __future__ import annotations

__version__ = "0.1.0"
