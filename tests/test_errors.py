from __future__ import annotations

import pytest

from itilmigrate.errors import SourceError, mask_secrets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "postgresql+psycopg://itil:s3cret@db/itil",
            "postgresql+psycopg://itil:***@db/itil",
            id="url",
        ),
        pytest.param(
            "DRIVER={FreeTDS};UID=bob;PWD={se;cret};Database=HEAT",
            "DRIVER={FreeTDS};UID=bob;PWD=***;Database=HEAT",
            id="odbc-braced",
        ),
        pytest.param(
            "DRIVER={X};Server=127.0.0.1;UID=bob;password=S3cretPW",
            "DRIVER={X};Server=127.0.0.1;UID=bob;password=***",
            id="odbc-last-attribute",
        ),
    ],
)
def test_mask_secrets_hides_passwords(text, expected):
    assert mask_secrets(text) == expected


def test_source_error_keeps_the_reason_after_a_masked_connection_string():
    where = mask_secrets("DRIVER={NoSuchDriver};UID=bob;PWD=S3cretPW")
    error = SourceError(
        f"Cannot connect through ODBC ({where}): Can't open lib 'NoSuchDriver'.",
        source_name="mini",
    )

    assert str(error) == (
        "Source 'mini': Cannot connect through ODBC (DRIVER={NoSuchDriver};UID=bob;"
        "PWD=***): Can't open lib 'NoSuchDriver'."
    )
