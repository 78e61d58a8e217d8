"""Transform stage: mappings applied to legacy records, batch by batch."""

from __future__ import annotations
