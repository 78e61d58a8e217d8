"""Mapping definitions: how one legacy system becomes ITIL entities."""

from __future__ import annotations
