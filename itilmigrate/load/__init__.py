"""Load stage: write entity batches to a target, reconcile and export them.

Importing this package imports every target implementation, so each registers
itself with :func:`itilmigrate.load.base.open_target`.
"""

from __future__ import annotations

from itilmigrate.load.base import DryRunTarget, Target, open_target
from itilmigrate.load.reconcile import reconcile
from itilmigrate.load.sql_target import SqlTarget

__all__ = ["DryRunTarget", "SqlTarget", "Target", "open_target", "reconcile"]
