"""The mapping definitions bundled with itilmigrate (one YAML per legacy system)."""

from __future__ import annotations
