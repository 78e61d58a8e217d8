"""strptime layouts of a mapping's dates and times, checked before data moves.

A layout pandas cannot use would otherwise fail on the first batch, and a layout
without a date directive would quarantine every record as ``unparseable``; both are
definition mistakes, reported with the rest of the mapping's problems (exit 3).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

# strptime directives by what they read. pandas parses every layout (converters), so
# these are the directives pandas accepts; %z/%Z and the locale layouts %c/%x/%X
# are refused on purpose (see _layout_problem).
_DATE_DIRECTIVES = "dmYybBjG"
_DATE_PART_DIRECTIVES = "aAwuUWV"
_TIME_DIRECTIVES = "HIMSfp"
_ZONE_DIRECTIVES = "zZ"
_LOCALE_DIRECTIVES = "cxX"
_KNOWN_DIRECTIVES = (
    _DATE_DIRECTIVES
    + _DATE_PART_DIRECTIVES
    + _TIME_DIRECTIVES
    + _ZONE_DIRECTIVES
    + _LOCALE_DIRECTIVES
)


def _spaced(directives: str) -> str:
    return " ".join(f"%{d}" for d in directives)


def directives(layout: str) -> list[str] | None:
    """Return the directive letters of a strptime ``layout`` (``%%`` is a literal).

    Returns None when the layout ends with a lone ``%``.
    """
    found: list[str] = []
    index = 0
    while index < len(layout):
        if layout[index] != "%":
            index += 1
            continue
        if index + 1 == len(layout):
            return None
        if layout[index + 1] != "%":
            found.append(layout[index + 1])
        index += 2
    return found


def _layout_problem(layout: str, *, kind: Literal["date", "time"]) -> str | None:
    """Return what is wrong with a date or time layout, or None when it is usable."""
    found = directives(layout)
    if found is None:
        return f"{layout!r} ends with a lone '%'; write '%%' for a literal percent sign"
    unknown = [f"%{d}" for d in found if d not in _KNOWN_DIRECTIVES]
    if unknown:
        listed = ", ".join(repr(d) for d in dict.fromkeys(unknown))
        verb = "is not a strptime directive" if len(unknown) == 1 else "are not "
        if len(unknown) > 1:
            verb += "strptime directives"
        if kind == "date":
            expected = (
                "a date layout such as '%d/%m/%Y' built from "
                f"{_spaced(_DATE_DIRECTIVES)} (and "
                f"{_spaced(_DATE_PART_DIRECTIVES + _TIME_DIRECTIVES + '%')})"
            )
        else:
            expected = (
                "a time layout such as '%H:%M:%S' built from "
                f"{_spaced(_TIME_DIRECTIVES)}"
            )
        return f"{listed} in {layout!r} {verb}; expected {expected}"
    zones = [f"%{d}" for d in found if d in _ZONE_DIRECTIVES]
    if zones:
        # Legacy texts are zoneless; their zone comes from the mapping definition.
        return (
            f"{layout!r} reads a zone ({zones[0]}), which is not supported; drop it "
            "and set the mapping's 'timezone'"
        )
    locale = [f"%{d}" for d in found if d in _LOCALE_DIRECTIVES]
    if locale:
        return (
            f"{locale[0]!r} in {layout!r} depends on the machine's locale; spell the "
            "layout out, such as '%d/%m/%Y %H:%M'"
        )
    return _kind_problem(layout, found, kind=kind) or _pandas_problem(layout, kind)


def _kind_problem(
    layout: str, found: list[str], *, kind: Literal["date", "time"]
) -> str | None:
    if kind == "date":
        if not any(d in _DATE_DIRECTIVES for d in found):
            return (
                f"{layout!r} has no date directive; expected a strptime layout such "
                f"as '%d/%m/%Y' with at least one of {_spaced(_DATE_DIRECTIVES)}"
            )
        return None
    dated = [d for d in found if d in _DATE_DIRECTIVES + _DATE_PART_DIRECTIVES]
    if dated:
        return (
            f"{layout!r} reads a date ({_spaced(''.join(dated))}); expected a time "
            "of day only, such as '%H:%M:%S' (date layouts go in 'dates.formats')"
        )
    if not any(d in _TIME_DIRECTIVES for d in found):
        return (
            f"{layout!r} has no time directive; expected a strptime layout such as "
            f"'%H:%M:%S' with at least one of {_spaced(_TIME_DIRECTIVES)}"
        )
    return None


def _pandas_problem(layout: str, kind: str) -> str | None:
    # Some combinations pass the directive check but pandas refuses them when it
    # compiles the layout (%U without a weekday, %G without %V): ask pandas now
    # rather than fail on the first batch.
    try:
        pd.to_datetime(pd.Series(["0"], dtype=object), format=layout, errors="coerce")
    except ValueError as exc:
        return f"pandas cannot read {kind}s with {layout!r}: {exc}"
    return None


def date_layout(layout: str) -> str:
    """Return ``layout`` if it reads a date; raise ValueError saying why not."""
    problem = _layout_problem(layout, kind="date")
    if problem is not None:
        raise ValueError(problem)
    return layout


def time_layout(layout: str) -> str:
    """Return ``layout`` if it reads a time of day only; raise ValueError if not."""
    problem = _layout_problem(layout, kind="time")
    if problem is not None:
        raise ValueError(problem)
    return layout
