from __future__ import annotations

import logging

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itilmigrate.transform.text import clean_text, normalise_for_similarity

RTF_DESCRIPTION = (
    r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Arial;}}"
    r"{\colortbl;\red255\green0\blue0;}"
    r"\viewkind4\uc1\pard\f0\fs20 Printer on floor 3 is \b jammed\b0 .\par "
    r"Caf\'e9 queue stuck \u8364? 5.\par"
    "\r\n}"
)
OUTLOOK_HTML = (
    "<html><head><style>p.MsoNormal {margin:0cm; font-size:11pt}</style>"
    "<!--[if gte mso 9]><xml>settings</xml><![endif]--></head>"
    "<body><div class=WordSection1><p class=MsoNormal>Outlook crashes\n"
    "   when opening attachments.</p>"
    "<script>alert('x')</script>"
    "<p>Second&nbsp;line &amp; more<br>after a break</p>"
    "<ul><li>one</li><li>two</li></ul>tail"
    "</div></body></html>"
)


def clean_one(value: str | None, **options) -> tuple[str | None, bool]:
    result = clean_text(pd.Series([value], dtype=object), **options)
    return result.text.iloc[0], bool(result.changed.iloc[0])


def test_clean_text_rtf_gives_exact_plain_text():
    assert clean_one(RTF_DESCRIPTION) == (
        "Printer on floor 3 is jammed.\nCafé queue stuck € 5.",
        True,
    )


def test_clean_text_html_keeps_script_text_and_drops_style_and_comments():
    assert clean_one(OUTLOOK_HTML) == (
        "Outlook crashes when opening attachments.\n"
        "alert('x')\n"
        "Second line & more\n"
        "after a break\n"
        "one\n"
        "two\n"
        "tail",
        True,
    )


def test_clean_text_html_pre_keeps_line_breaks():
    html = "<p>Log:</p><pre>line 1\n    line 2</pre>"

    assert clean_one(html) == ("Log:\nline 1\n    line 2", True)


def test_clean_text_html_control_character_references_removed():
    assert clean_one("<p>a&#1;b&#0;c</p>") == ("ab\ufffdc", True)


def test_clean_text_html_consecutive_breaks_keep_one_blank_line():
    html = "first<br><br><br><br>second"

    assert clean_one(html) == ("first\n\nsecond", True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("cafÃ©", "café", id="utf8-read-as-cp1252"),
        pytest.param("Â£5", "£5", id="pound-sign"),
        pytest.param("donâ€™t", "don\u2019t", id="curly-apostrophe"),
        pytest.param("a\x00b", "ab", id="nul-removed"),
        pytest.param(
            "bell\x07 and esc\x1b[31mred\x1b[0m", "bell and escred", id="controls"
        ),
        pytest.param(
            "line 1\r\nline 2\rline 3", "line 1\nline 2\nline 3", id="line-ends"
        ),
        pytest.param("a  \nb\t\n", "a\nb", id="trailing-whitespace"),
        pytest.param("\n \n  text\n\n \n", "  text", id="outer-blank-lines"),
        pytest.param("\ufeffhello", "hello", id="byte-order-mark"),
        pytest.param(
            "Invoice \u202egnp.exe\u202c and \u2067x\u2069",
            "Invoice gnp.exe and x",
            id="bidi-overrides-and-isolates",
        ),
        pytest.param("", None, id="empty-is-none"),
        pytest.param(" \n\t ", None, id="whitespace-is-none"),
        pytest.param("<p>&nbsp;</p>", None, id="empty-html-is-none"),
    ],
)
def test_clean_text_value_gives_expected_text(value, expected):
    text, changed = clean_one(value)

    assert text == expected
    assert changed is True


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Printer jammed on floor 3.", id="ascii"),
        pytest.param("Café “quoted” ﬁle \u2013 ok", id="unicode-kept-as-is"),
        pytest.param("  indented\n\ttabbed\n\nparagraph", id="inner-layout-kept"),
        pytest.param("AT&amp;T", id="entities-in-plain-text-kept"),
        pytest.param("x < y and p > q", id="comparison-is-not-html"),
    ],
)
def test_clean_text_plain_text_unchanged(value):
    assert clean_one(value) == (value, False)


def test_clean_text_missing_value_stays_none_unchanged():
    result = clean_text(pd.Series([None, float("nan")], dtype=object))

    assert result.text.tolist() == [None, None]
    assert result.changed.tolist() == [False, False]


def test_clean_text_max_length_cuts_cleaned_text():
    assert clean_one("<p>abcdef</p>", max_length=4) == ("abcd", True)
    assert clean_one("abcd", max_length=4) == ("abcd", False)


def test_clean_text_non_positive_max_length_raises_value_error():
    with pytest.raises(ValueError, match="max_length must be positive"):
        clean_text(pd.Series(["x"]), max_length=0)


def test_clean_text_repeated_values_keep_index_and_order():
    values = pd.Series(["a\x00", None, "b", "a\x00"], index=[7, 8, 9, 10], dtype="str")

    result = clean_text(values)

    assert result.text.index.tolist() == [7, 8, 9, 10]
    assert result.text.tolist() == ["a", None, "b", "a"]
    assert result.changed.tolist() == [True, False, False, True]
    assert result.text.dtype == object
    assert result.changed.dtype == bool


def test_clean_text_unparseable_rtf_keeps_markup_and_warns(caplog):
    # striprtf fails on "\uc" without a number: a LIMITATION, the markup stays.
    caplog.set_level(logging.WARNING, logger="itilmigrate.transform.text")

    assert clean_one(r"{\rtf1 \uc hello}") == (r"{\rtf1 \uc hello}", False)
    assert [record.getMessage() for record in caplog.records] == [
        "markup kept unconverted in text values count=1"
    ]


def test_clean_text_html_rejected_by_parser_keeps_markup_and_warns(caplog):
    caplog.set_level(logging.WARNING, logger="itilmigrate.transform.text")
    markup = "<p>Printer jammed<![ foo [ bar"

    assert clean_one(markup) == (markup, False)
    assert [record.getMessage() for record in caplog.records] == [
        "markup kept unconverted in text values count=1"
    ]


@given(st.lists(st.one_of(st.none(), st.text()), max_size=5))
def test_clean_text_any_string_gives_text_or_none(values):
    result = clean_text(pd.Series(values, dtype=object))

    for text in result.text:
        assert text is None or (isinstance(text, str) and text != "")


@given(st.text(), st.text())
def test_clean_text_any_markup_gives_text_or_none(body, script):
    values = [
        "{\\rtf1\\ansi " + body + "}",
        "<p>" + body + "<script>" + script + "</script><br><pre>" + body,
    ]

    result = clean_text(pd.Series(values, dtype=object))

    for text in result.text:
        assert text is None or isinstance(text, str)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "Outlook crashes (call 4711)!", "outlook crashes call", id="digits"
        ),
        pytest.param("  VPN--down__again  ", "vpn down again", id="punctuation"),
        pytest.param("Straße", "strasse", id="casefold"),
        pytest.param("123 !!", "", id="nothing-left"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_normalise_for_similarity_value_gives_words(value, expected):
    result = normalise_for_similarity(pd.Series([value], dtype=object))

    assert result.tolist() == [expected]
