r"""Clean legacy memo text (descriptions, closing text, journal entries) to plain text.

HEAT memo fields hold whatever the desk pasted into them: RTF from the rich-text
editor, HTML from forwarded e-mails, text that went through the wrong code page
(``cafÃ©``), NUL bytes from C clients and Windows line ends. :func:`clean_text`
turns each distinct value into plain text once and spreads the result back, because
the libraries involved work one string at a time.

Decisions about markup:

* **RTF** (a value starting with ``{\rtf``) is converted with ``striprtf``.
* **HTML** (a value containing tags such as ``<p>``, ``<br>``, ``<div>``) is
  rendered with BeautifulSoup's ``html.parser``: block elements and ``<br>`` become
  line breaks and runs of markup whitespace collapse to one space, as a browser
  shows them. The text of ``<script>`` elements is **kept** as plain text: nothing
  the legacy record says is silently dropped, and as text it can never execute.
  ``<style>`` rules and HTML comments are dropped: they are presentation (Outlook
  pastes kilobytes of CSS into every message), not content. The raw value stays
  in the legacy record either way, and ``changed`` marks every rewritten value.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ftfy
import numpy as np
import pandas as pd
from bs4 import BeautifulSoup, ParserRejectedMarkup
from bs4.element import CData, NavigableString, PageElement, PreformattedString, Tag
from striprtf.striprtf import rtf_to_text

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanedText:
    """Cleaned plain text of one memo column.

    Attributes:
        text: Cleaned text (``str``, or ``None`` where missing or nothing is left).
        changed: True where cleaning changed the value.
    """

    text: pd.Series
    changed: pd.Series


_RTF_START = re.compile(r"^\s*\{\\rtf", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"<(?:/?(?:p|br|div|span|font|html|head|body|title|meta|script|style|table|thead|"
    r"tbody|tr|td|th|ul|ol|li|b|i|u|em|strong|a|img|hr|pre|blockquote|center|h[1-6]|"
    r"o:p)\b[^<>]*>|!doctype\s+html|!--)",
    re.IGNORECASE,
)
# Elements that start and end a line when rendered.
_BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
    "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul",
))  # fmt: skip
# Control characters never survive cleaning, so while HTML is rendered they can
# stand for block boundaries, <br>, and the whitespace of <pre> text, which must
# escape the collapsing of markup whitespace.
_BLOCK = "\x00"
_BREAK = "\x01"
_PROTECT = str.maketrans({" ": "\x02", "\t": "\x03", "\n": "\x04"})
_RESTORE = str.maketrans({"\x02": " ", "\x03": "\t", "\x04": "\n"})
_PRESERVE_SPACE = frozenset(("pre", "textarea", "script"))
_MARKUP_SPACE = re.compile(r"[ \t\n\f]+")
_SPACES = re.compile(r" {2,}")
_SPACE_AT_MARK = re.compile(r" *([\x00\x01]) *")
_BLOCK_RUN = re.compile(r"(\x01*)\x00+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Control characters other than tab and newline, lone surrogates (a database
# cannot store them as UTF-8) and stray byte-order marks.
# Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069) go
# too: in a report they can reverse how the text around them reads.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u202a-\u202e\u2066-\u2069]"
)
_LINE_ENDS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_NOT_LETTERS = re.compile(r"[\W\d_]+")

# Repair encoding only: every other ftfy fix (curly quotes, full-width letters,
# ligatures, Unicode normalisation) would rewrite text that is not broken.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    normalization=None,
    explain=False,
)


def _rtf_to_plain(value: str) -> str | None:
    r"""Convert RTF to text; ``None`` when striprtf cannot parse the value.

    striprtf raises on some malformed control words (``\uc`` without a number,
    ``\u`` beyond U+10FFFF) and on Mac code pages Python has no codec for.
    """
    try:
        # striprtf ships no type annotations.
        return str(rtf_to_text(value, errors="replace"))  # type: ignore[no-untyped-call]
    except (ValueError, TypeError, LookupError, IndexError, OverflowError):
        return None


def _is_content(string: NavigableString) -> bool:
    """Tell text that is content from comments, doctypes and declarations.

    Script text counts as content on purpose (module docstring); CData is the one
    preformatted string type that holds content. Style rules are skipped by
    :func:`_render` with their element.
    """
    return isinstance(string, CData) or not isinstance(string, PreformattedString)


def _html_to_plain(value: str) -> str | None:
    """Render HTML as plain text; ``None`` when the parser rejects the markup."""
    markup = _CONTROL.sub("", _LINE_ENDS.sub("\n", value))
    try:
        with warnings.catch_warnings():
            # Pasted XML or URL-like text makes bs4 warn about the parser choice; the
            # value is still rendered, and a warning per value would flood the log.
            warnings.simplefilter("ignore", UserWarning)
            soup = BeautifulSoup(markup, "html.parser")
    except ParserRejectedMarkup:
        return None

    text = _SPACES.sub(" ", "".join(_render(soup)).replace("\xa0", " "))
    text = _SPACE_AT_MARK.sub(r"\1", text)
    # A block boundary breaks the line unless a <br> just did.
    text = _BLOCK_RUN.sub(lambda run: run.group(1) or _BREAK, text)
    text = _BLANK_LINES.sub("\n\n", text.strip(" ").replace(_BREAK, "\n"))
    return text.translate(_RESTORE)


def _render(soup: BeautifulSoup) -> list[str]:
    """Walk the parsed tree once, emitting text, marks for blocks and <br>.

    An explicit stack rather than recursion: pasted e-mail threads nest deeply
    enough to reach Python's recursion limit, and bs4's own search helpers cost
    several times more than this walk.
    """
    parts: list[str] = []
    stack: list[tuple[Iterator[PageElement], bool, bool]] = [
        (iter(soup.contents), False, False)
    ]
    preserving = 0
    while stack:
        children, block, preserve = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            parts.append(_BLOCK if block else "")
            preserving -= preserve
        elif isinstance(node, Tag):
            name = node.name.lower()
            if name == "br":
                parts.append(_BREAK)
            elif name != "style":
                block, preserve = name in _BLOCK_TAGS, name in _PRESERVE_SPACE
                parts.append(_BLOCK if block else "")
                preserving += preserve
                stack.append((iter(node.contents), block, preserve))
        elif isinstance(node, NavigableString) and _is_content(node):
            # Character references such as &#1; decode to control characters.
            text = _CONTROL.sub("", _LINE_ENDS.sub("\n", node))
            if preserving:
                parts.append(text.translate(_PROTECT))
            else:
                parts.append(_MARKUP_SPACE.sub(" ", text))
    return parts


@dataclass(slots=True)
class _Cleaner:
    """Cleans single values and counts the markup it had to keep unconverted."""

    max_length: int | None
    unconverted_count: int = 0

    def clean(self, value: str) -> str | None:
        text = value
        if _RTF_START.match(text):
            converted = _rtf_to_plain(text)
        elif _HTML_TAG.search(text):
            converted = _html_to_plain(text)
        else:
            converted = text
        if converted is None:
            # LIMITATION: RTF or HTML that its parser rejects is not converted.
            # When: malformed RTF control words, Mac code-page fonts, broken "<![".
            # Then: the text keeps its markup (nothing is lost); one warning counts it.
            self.unconverted_count += 1
        else:
            text = converted

        # Mojibake needs non-ASCII characters, and terminal escapes need ESC: plain
        # ASCII skips ftfy, which is the slowest step by far.
        if not text.isascii() or "\x1b" in text:
            text = ftfy.fix_text(text, _FTFY_CONFIG)
        text = _CONTROL.sub("", _LINE_ENDS.sub("\n", text))
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
        if self.max_length is not None:
            text = text[: self.max_length]
        return text or None


def clean_text(values: pd.Series, *, max_length: int | None = None) -> CleanedText:
    r"""Turn legacy memo values into plain text (RTF, HTML, mojibake, control chars).

    Per distinct value: RTF and HTML are converted to text, broken code-page text is
    repaired with ftfy, control characters other than tab and newline are removed,
    line ends become ``\n``, trailing whitespace on each line and blank lines at the
    start and end go. A value with nothing left becomes ``None``. Never raises on data.

    Args:
        values: Memo texts (``str``, ``None`` or NaN).
        max_length: Cut the cleaned text to this many characters.

    Returns:
        The cleaned text and a mask of the values that cleaning changed.

    Raises:
        ValueError: If ``max_length`` is not positive.
    """
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be positive, not {max_length}.")

    cleaner = _Cleaner(max_length=max_length)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts: list[str | None] = []
    changes: list[bool] = []
    for unique in uniques:
        original = unique if isinstance(unique, str) else str(unique)
        cleaned = cleaner.clean(original)
        texts.append(cleaned)
        changes.append(cleaned != original)
    if cleaner.unconverted_count:
        logger.warning(
            "markup kept unconverted in text values count=%d", cleaner.unconverted_count
        )

    text_table = np.empty(len(texts) + 1, dtype=object)
    text_table[: len(texts)] = texts
    text_table[-1] = None
    changed_table = np.array([*changes, False], dtype=bool)
    return CleanedText(
        text=pd.Series(
            text_table[codes], index=values.index, dtype=object, name=values.name
        ),
        changed=pd.Series(
            changed_table[codes], index=values.index, dtype=bool, name=values.name
        ),
    )


def normalise_for_similarity(values: pd.Series) -> pd.Series:
    """Reduce texts to lower-case words for fuzzy comparison.

    Case-folds, turns digits, punctuation and underscores into spaces and collapses
    runs of spaces, so "Outlook crashes (ticket 4711)!" and "outlook crashes" share
    their words. Missing values stay ``None``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = [
        _NOT_LETTERS.sub(" ", str(unique).casefold()).strip() for unique in uniques
    ]
    table[-1] = None
    return pd.Series(table[codes], index=values.index, dtype=object, name=values.name)
