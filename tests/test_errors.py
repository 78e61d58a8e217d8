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
        pytest.param(
            "target=//postgres:Sup3rS3cret@127.0.0.1/test",
            "target=//postgres:***@127.0.0.1/test",
            id="scheme-relative-url",
        ),
        pytest.param(
            "mysql+pymysql://root:p@ss@Sup3rS3cret@127.0.0.1:3306/test",
            "mysql+pymysql://root:***@127.0.0.1:3306/test",
            id="url-unescaped-at-in-password",
        ),
        pytest.param(
            "mysql://root:pa/ss?x#y@db:3306/test",
            "mysql://root:***@db:3306/test",
            id="url-slash-query-hash-in-password",
        ),
        pytest.param(
            "root:Sup3rS3cret@127.0.0.1",
            "root:***@127.0.0.1",
            id="no-scheme",
        ),
        pytest.param(
            "Target URL 'root:p@ss@Sup3rS3cret@127.0.0.1' is not a SQLAlchemy URL.",
            "Target URL 'root:***@127.0.0.1' is not a SQLAlchemy URL.",
            id="no-scheme-quoted-unescaped-at",
        ),
        pytest.param(
            "run started job=x target=root:Sup3rS3cret@127.0.0.1 dry_run=False",
            "run started job=x target=root:***@127.0.0.1 dry_run=False",
            id="no-scheme-log-value",
        ),
        pytest.param(
            "postgresql://itil:s3cret@db/itil?sslmode=require&password=s3cret",
            "postgresql://itil:***@db/itil?sslmode=require&password=***",
            id="url-and-query-password",
        ),
        pytest.param(
            "DRIVER={X};Server=tcp:sql.example.net,1433;UID=bob@tenant;PWD=S3cret",
            "DRIVER={X};Server=tcp:sql.example.net,1433;UID=bob@tenant;PWD=***",
            id="odbc-user-with-at",
        ),
    ],
)
def test_mask_secrets_hides_passwords(text, expected):
    assert mask_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "postgresql+psycopg://itil@db:5432/itil", id="url-without-password"
        ),
        pytest.param("sqlite:///C:/exports/a@b/target.db", id="sqlite-path-with-at"),
        pytest.param("mysql://root:***@db/test", id="already-masked"),
        pytest.param(
            "2026-12-04 04:58:32,158 INFO run_id=x source started rows=200",
            id="log-line-with-times",
        ),
    ],
)
def test_mask_secrets_text_without_a_password_is_unchanged(text):
    assert mask_secrets(text) == text


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
