"""Extract stage: read legacy tables from databases and CSV exports in batches.

The implementation modules are imported here so that each registers its factory
with :data:`itilmigrate.extract.base.source_registry` when the package loads.
"""

from __future__ import annotations

from itilmigrate.extract import csv_source, odbc_source, sql_source
from itilmigrate.extract.base import (
    CsvSourceSpec,
    OdbcSourceSpec,
    Source,
    SourceSpec,
    SqlSourceSpec,
    open_source,
    resolve_column,
    source_registry,
)

__all__ = [
    "CsvSourceSpec",
    "OdbcSourceSpec",
    "Source",
    "SourceSpec",
    "SqlSourceSpec",
    "csv_source",
    "odbc_source",
    "open_source",
    "resolve_column",
    "source_registry",
    "sql_source",
]
