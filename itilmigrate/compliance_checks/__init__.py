"""Compliance rules over migrated ITIL entities; findings."""

from __future__ import annotations
