"""The bundled compliance rules, one module per ITIL practice or entity type."""

from __future__ import annotations
