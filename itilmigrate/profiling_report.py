"""Render a source profile as a readable HTML or Markdown page (Jinja2).

The page shows legacy values (distinct codes, dates that fit no layout), so it is
a restricted output, like the quarantine report; its header says so. Every value
is escaped: HTML by Jinja2's autoescape, Markdown by :func:`md_escape`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

RESTRICTED_NOTICE = (
    "RESTRICTED: this profile contains legacy values (codes, dates that fit no "
    "layout). Treat it as personal data, like the quarantine report."
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>])")

_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Profile of {{ profile.source_name }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}
.restricted{background:#fee;border:2px solid #c00;padding:0.5em}</style></head>
<body>
<p class="restricted">{{ notice }}</p>
<h1>Profile of {{ profile.source_name }}</h1>
<p>Source: {{ profile.source }}; generated {{ profile.generated_at }};
sample size {{ profile.sample_size }} rows per table.</p>
{% for t in profile.tables %}
<h2>{{ t.table }}</h2>
<p>{{ t.row_count }} rows{% if t.sampled %}; <b>sampled: the first {{ t.sample_rows }}
rows</b>{% endif %}{% if t.encoding %}; encoding {{ t.encoding }}{% endif %}.
{% if t.key %}Key {{ t.key | join(", ") }}: {{ t.duplicate_key_count }} duplicate
key(s) over {{ t.duplicate_row_count }} rows.{% endif %}
{% for o in t.orphans or [] %}Orphans: {{ o.orphan_count }} row(s) whose
{{ o.column }} is not in {{ o.parent_table }}.{{ o.parent_column }}.{% endfor %}</p>
<table><tr><th>column</th><th>type</th><th>null</th><th>empty</th><th>whitespace</th>
<th>distinct</th><th>date layouts</th><th>fit no layout</th><th>mojibake</th>
<th>values</th></tr>
{% for c in t.columns %}<tr><td>{{ c.name }}</td><td>{{ c.type }}</td>
<td>{{ "%.1f%%" | format(c.null_share * 100) }}</td>
<td>{{ "%.1f%%" | format(c.empty_share * 100) }}</td>
<td>{{ "%.1f%%" | format(c.whitespace_share * 100) }}</td>
<td>{{ c.distinct_count }}</td><td>{{ c.date_layouts | join(", ") }}</td>
<td>{{ c.date_unmatched_count }}{% if c.date_unmatched_examples %}
({{ c.date_unmatched_examples | map("short") | join(", ") }}){% endif %}</td>
<td>{{ c.mojibake_count }}</td>
<td>{% if c["values"] %}{% for v, n in c["values"].items() %}{{ v | short }} ({{ n }})
{%- if not loop.last %}, {% endif %}{% endfor %}{% endif %}</td></tr>
{% endfor %}</table>
{% endfor %}
</body></html>
"""

_MARKDOWN = """> **{{ notice | md }}**

# Profile of {{ profile.source_name | md }}

Source: {{ profile.source | md }}; generated {{ profile.generated_at }}; sample size
{{ profile.sample_size }} rows per table.
{% for t in profile.tables %}
## {{ t.table | md }}

{{ t.row_count }} rows{% if t.sampled %}; **sampled: the first {{ t.sample_rows }}
rows**{% endif %}{% if t.encoding %}; encoding {{ t.encoding | md }}{% endif %}.
{% if t.key %}Key {{ t.key | join(", ") | md }}: {{ t.duplicate_key_count }} duplicate
key(s) over {{ t.duplicate_row_count }} rows.{% endif %}
{% for o in t.orphans or [] %}Orphans: {{ o.orphan_count }} row(s) whose
{{ o.column | md }} is not in {{ o.parent_table | md }}.{{ o.parent_column | md }}.
{% endfor %}
| column | type | null | empty | whitespace | distinct | date layouts | \
fit no layout | mojibake |
| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |
{% for c in t.columns -%}
| {{ c.name | md }} | {{ c.type }} | {{ "%.1f%%" | format(c.null_share * 100) }} | \
{{ "%.1f%%" | format(c.empty_share * 100) }} | \
{{ "%.1f%%" | format(c.whitespace_share * 100) }} | {{ c.distinct_count }} | \
{{ c.date_layouts | join(", ") | md }} | {{ c.date_unmatched_count }} | \
{{ c.mojibake_count }} |
{% endfor %}
{% for c in t.columns if c["values"] %}
- {{ c.name | md }}: {% for v, n in c["values"].items() %}{{ v | short | md }} ({{ n }})
{%- if not loop.last %}, {% endif %}{% endfor %}
{% endfor %}
{% endfor %}
"""


#: Longest legacy value a page shows in full; profile.json keeps every value whole.
SHOWN_CHARACTERS = 120


def shorten(value: object) -> str:
    """Cut a legacy value for display: a 200,000-character memo is not a label."""
    text = str(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS]}… ({len(text):,} characters)"


def md_escape(value: object) -> str:
    """Escape Markdown and HTML specials so a legacy value shows as plain text."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_profile(profile: dict[str, Any], *, fmt: str) -> str:
    """Return the profile as an HTML (``fmt="html"``) or Markdown page."""
    import jinja2  # noqa: PLC0415 - only when a page is written

    # Markdown is escaped by the `md` filter instead: HTML entities would show.
    env = jinja2.Environment(
        autoescape=fmt == "html",  # noqa: S701 - Markdown goes through `md`
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["short"] = shorten
    template = env.from_string(_HTML if fmt == "html" else _MARKDOWN)
    return template.render(profile=profile, notice=RESTRICTED_NOTICE)


def write_profile(profile: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ``profile.json``, ``profile.html`` and ``profile.md`` into ``out_dir``."""
    import json  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    path = out_dir / "profile.json"
    path.write_text(json.dumps(profile, indent=2, ensure_ascii=False), encoding="utf-8")
    written.append(path)
    for fmt, name in (("html", "profile.html"), ("md", "profile.md")):
        page = out_dir / name
        page.write_text(render_profile(profile, fmt=fmt), encoding="utf-8")
        written.append(page)
    return written
