"""Write a mapping skeleton from a source profile, every legacy code marked for review.

``itilmigrate mapping init --profile PROFILE.json [--like heat]`` lists every
distinct status, priority, call type and category value the profile found in the
value maps, each with the target value ``REVIEW`` and a ``# REVIEW:`` comment.
``REVIEW`` is not a valid target, so ``mapping validate`` fails until a person has
filled in every one.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml

from itilmigrate.errors import ConfigError
from itilmigrate.mappings.validate import REVIEW_MARK

#: (value map or setting, table, column) filled from the profile with ``--like heat``.
HEAT_VALUE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("status", "CallLog", "CallStatus"),
    ("priority", "CallLog", "Priority"),
    ("call_types", "CallLog", "CallType"),
    ("services", "CallLog", "Category"),
    ("groups", "Asgnmnt", "GroupName"),
)
_GUESSES: tuple[tuple[str, str], ...] = (
    ("status", r"status|state"),
    ("priority", r"priority"),
    ("category", r"categ"),
    ("title", r"short|summary|title|subject"),
    ("description", r"desc"),
    ("opened_at", r"(open|creat|recvd|logged|start).*(date|time|_at)|^opened"),
    ("resolved_at", r"resol.*(date|time|_at)"),
    ("closed_at", r"clos.*(date|time|_at)"),
)
_REVIEW_LINE = re.compile(r"^(\s*)(.+?): REVIEW$", re.MULTILINE)


def _values(profile: dict[str, Any], table: str, column: str) -> dict[str, int]:
    for entry in profile.get("tables", []):
        if entry["table"].casefold() != table.casefold():
            continue
        for col in entry["columns"]:
            if col["name"].casefold() == column.casefold():
                return dict(col.get("values") or {})
    return {}


def _review_comments(text: str) -> str:
    """Append a ``# REVIEW:`` comment to every line whose value is ``REVIEW``."""
    return _REVIEW_LINE.sub(
        r"\1\2: REVIEW  # REVIEW: set the target value of this legacy code", text
    )


def heat_skeleton(profile: dict[str, Any]) -> dict[str, Any]:
    """Return the bundled HEAT mapping with its value maps keyed by profile values."""
    resource = resources.files("itilmigrate.mappings.definitions").joinpath("heat.yaml")
    data: dict[str, Any] = yaml.safe_load(resource.read_text(encoding="utf-8"))
    for name, table, column in HEAT_VALUE_COLUMNS:
        found = _values(profile, table, column)
        if not found:
            continue
        # Keys compare case-insensitively in the engine: one entry per spelling.
        folded: dict[str, str] = {}
        for value in sorted(found, key=lambda v: -found[v]):
            folded.setdefault(value.strip().casefold(), value.strip())
        review = dict.fromkeys(sorted(folded.values()), REVIEW_MARK)
        if name == "priority":
            data["priority"]["levels"] = review
        else:
            data["value_maps"][name] = {"values": review}
    if "call_types" in data["value_maps"]:
        calls = next(s for s in data["sources"] if s["name"] == "calls")
        calls["fields"]["request_type"] = {"column": "CallType", "map": "call_types"}
    return data


def generic_skeleton(profile: dict[str, Any], *, name: str) -> dict[str, Any]:
    """Return a mapping with one record source per table, fields guessed by name."""
    layouts: list[str] = []
    sources = []
    value_maps: dict[str, Any] = {}
    for entry in profile.get("tables", []):
        columns = [c["name"] for c in entry["columns"]]
        if not columns:
            continue
        key = next(
            (c for c in columns if re.search(r"(^|_)id$|number|key", c, re.IGNORECASE)),
            columns[0],
        )
        fields: dict[str, Any] = {}
        for field, pattern in _GUESSES:
            column = next(
                (
                    c
                    for c in columns
                    if c != key and re.search(pattern, c, re.IGNORECASE)
                ),
                None,
            )
            if column is not None and field not in fields:
                fields[field] = {"column": column}
        for col in entry["columns"]:
            for layout in col.get("date_layouts") or []:
                if layout not in layouts and "%d" in layout:
                    layouts.append(layout)
        source_name = re.sub(r"[^a-z0-9_]+", "_", entry["table"].casefold()).strip("_")
        if "status" in fields:
            map_name = f"{source_name}_status"[:60]
            found = _values(profile, entry["table"], fields["status"]["column"])
            value_maps[map_name] = {
                "values": dict.fromkeys(sorted(found) or ["?"], REVIEW_MARK)
            }
            fields["status"] = {**fields["status"], "map": map_name, "required": True}
        else:
            fields["status"] = {"value": REVIEW_MARK}
        if "opened_at" not in fields:
            fields["opened_at"] = {"column": REVIEW_MARK}
        fields["opened_at"]["required"] = True
        sources.append(
            {
                "name": f"t_{source_name}"
                if source_name[:1].isdigit()
                else source_name,
                "table": entry["table"],
                "entity": "record",
                "key": [key],
                "fields": fields,
            }
        )
    return {
        "name": name,
        "description": "Generated by `itilmigrate mapping init`; review every REVIEW.",
        "timezone": "UTC",
        "dates": {"formats": layouts or ["%Y-%m-%d %H:%M:%S"]},
        "value_maps": value_maps,
        "sources": sources,
    }


def write_skeleton(
    profile: dict[str, Any], *, like: str | None, name: str = "legacy"
) -> str:
    """Return the YAML text of a mapping skeleton for ``profile``.

    Raises:
        ConfigError: ``like`` names no known legacy system, or the profile has no
            table (exit 3).
    """
    if not profile.get("tables"):
        raise ConfigError(
            "The profile lists no table.\nhint: run `itilmigrate profile` first."
        )
    if like == "heat":
        data = heat_skeleton(profile)
    elif like is None:
        data = generic_skeleton(profile, name=name)
    else:
        raise ConfigError(f"Unknown legacy system {like!r}; use 'heat' or omit --like.")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    header = (
        "# yaml-language-server: $schema=itilmigrate-mapping.schema.json\n"
        "# Mapping skeleton written by `itilmigrate mapping init` from a profile of "
        f"{profile.get('source_name', 'the source')!s}.\n"
        "# Every `REVIEW` is a legacy code whose target value a person must choose;\n"
        "# `itilmigrate mapping validate` fails (exit 3) until none is left.\n"
    )
    return header + _review_comments(body)
