"""Tables and columns the generator writes, with HEAT's names and widths.

Widths follow the SDOT and WB sites of the HEAT reference (``shared/reference``),
except ``CallID``: it is declared ``varchar(10)`` so that the right-padded values some
sites hold (``'00012345  '``) survive PostgreSQL and MariaDB, which cut trailing spaces
off values longer than a ``varchar(8)``. No keys or indexes are declared: the data
plants duplicate ``CallID`` values, and the WB site shows real HEAT copies without keys.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import sqlalchemy as sa

Case: TypeAlias = Literal["mixed", "upper"]
ColumnSpec: TypeAlias = tuple[str, int | None]
"""A column name and its width: a positive width is varchar(n), 0 integer, None text."""

INTEGER: Final = 0
TEXT: Final = None

CALLLOG: Final = "CallLog"
ASGNMNT: Final = "Asgnmnt"
JOURNAL: Final = "Journal"
SUBSET: Final = "Subset"
PROFILE: Final = "Profile"

COLUMNS: Final[dict[str, tuple[ColumnSpec, ...]]] = {
    CALLLOG: (
        ("CallID", 10), ("CustID", 50), ("CustType", 50), ("CallType", 100),
        ("Tracker", 96), ("CallStatus", 50), ("Priority", 2), ("CallSource", 15),
        ("Category", 50), ("CatHeading", 25), ("RecvdBy", 96), ("RecvdDate", 10),
        ("RecvdTime", 8), ("ClosedBy", 96), ("ClosedDate", 10), ("ClosedTime", 8),
        ("ModBy", 96), ("ModDate", 10), ("ModTime", 8), ("DTLastMod", INTEGER),
        ("CallDesc", TEXT), ("CloseDesc", TEXT), ("Cause", 50), ("FirstResolution", 3),
        ("ShortDesc", 100),
        # Site-specific columns: a mapping keeps them as extension data.
        ("Site", 25), ("Vandalism", 1), ("TempField", 100),
    ),
    ASGNMNT: (
        ("CallID", 10), ("HEATSeq", INTEGER), ("AssignedBy", 96), ("DateAssign", 10),
        ("TimeAssign", 8), ("Assignee", 96), ("GroupName", 75), ("LoginID", 96),
        ("DateAcknow", 10), ("TimeAcknow", 8), ("WhoAcknow", 96), ("DateResolv", 10),
        ("TimeResolv", 8), ("WhoResolv", 96), ("Resolution", 50),
    ),
    JOURNAL: (
        ("CallID", 10), ("HEATSeq", INTEGER), ("Tracker", 96), ("EntryDate", 10),
        ("EntryTime", 8), ("EntryText", TEXT), ("JournalType", 25), ("TempField", 100),
    ),
    SUBSET: (
        ("CallID", 10), ("CustID", 50), ("CustType", 50), ("FirstName", 20),
        ("LastName", 25), ("EMailID", 50), ("Phone", 25), ("Site", 25),
    ),
    PROFILE: (
        ("CustID", 50), ("CustType", 50), ("FirstName", 50), ("LastName", 50),
        ("Title", 100), ("EMailID", 50), ("Phone", 25), ("Site", 25), ("Notes", TEXT),
    ),
}  # fmt: skip
TABLES: Final = tuple(COLUMNS)


def cased(name: str, case: Case) -> str:
    """Return a table or column name as a site of the given ``case`` spells it."""
    return name.upper() if case == "upper" else name


def _column_type(width: int | None) -> sa.types.TypeEngine[Any]:
    if width is None:
        return sa.Text()
    if width == INTEGER:
        return sa.Integer()
    return sa.String(width)


def build_metadata(case: Case, schema: str | None) -> sa.MetaData:
    """Return SQLAlchemy metadata with the five HEAT tables spelt in ``case``."""
    metadata = sa.MetaData(schema=schema)
    for table, columns in COLUMNS.items():
        sa.Table(
            cased(table, case),
            metadata,
            *(
                sa.Column(cased(name, case), _column_type(width), nullable=True)
                for name, width in columns
            ),
            # MariaDB's default character set may be a 3-byte utf8 or latin1.
            mysql_charset="utf8mb4",
        )
    return metadata
