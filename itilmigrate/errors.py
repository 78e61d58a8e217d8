"""Exceptions of itilmigrate and the exit codes they stand for.

Every exception carries the identifiers it concerns and builds its own message::

    MigrationError                  root; carries exit_code: ClassVar[ExitCode]
    ├── ConfigError                 exit 3; detected before any data is read
    │   ├── MappingDefinitionError  carries a list of problems (file, path, message)
    │   ├── RuleDefinitionError     duplicate rule_id, bad severity, ...
    │   └── UnsupportedFeatureError asks for something not implemented
    ├── SourceError                 exit 4; a source cannot be read (file, database)
    ├── TargetError                 exit 4; cannot write; says what rolled back
    │   └── TransientTargetError    retryable (deadlock, timeout); retried first
    └── RecordError                 never escapes a batch; becomes a quarantined record
        ├── ConversionError         a legacy value cannot become a target value
        └── EntityValidationError   wraps pydantic's ValidationError (locations only)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Process exit codes; the same table is in ``--help`` and the README."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    CONFIG = 3
    IO = 4
    INTERNAL = 70
    INTERRUPTED = 130


# The password runs from the user's ':' to the LAST '@' before the next whitespace:
# job files hold URLs whose password has an unescaped '@' or '/' (SQLAlchemy reads
# both as part of it), and over-masking a path or query is safer than a leak.
# The scheme is optional: a target written ``//user:password@host/db`` is a
# scheme-relative URL that SQLAlchemy refuses, and its message quotes it whole.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?:[a-zA-Z][\w+.-]*:|(?<![\w:/]))//[^:/@\s]*:)(?P<pw>\S*)(?=@)"
)
# ``user:password@host`` without a scheme (a mistyped target) starts a word, after
# whitespace, a quote, '=' or '('; '//' after the ':' is a URL's, masked above. It
# stops at ';', so an ODBC ``Server=tcp:host,1433;UID=bob@tenant`` keeps its server.
_BARE_PASSWORD = re.compile(
    r"(?<![^\s'\"=(\[<,])(?P<head>[^\s'\"=(\[<,;:/@]+:)(?!//)(?P<pw>[^\s;]*)(?=@)"
)
_ODBC_PASSWORD = re.compile(
    # A value already masked is left alone, so that masking a message that quotes
    # a masked connection string does not swallow the rest of the message.
    r"(?i)(?P<head>\b(?:pwd|password)\s*=\s*)(?P<pw>\{[^}]*\}|(?!\*\*\*)[^;]*)"
)


def mask_secrets(text: str) -> str:
    """Return ``text`` with passwords in URLs and ODBC strings replaced by ``***``.

    Used for every connection string that reaches a log line, message or report.
    Masks ``scheme://user:password@host`` up to the last ``@`` of the address,
    a bare ``user:password@host``, ``PWD=``/``Password=`` attributes and
    ``?password=`` query parameters.
    """
    masked = _URL_PASSWORD.sub(r"\g<head>***", text)
    masked = _BARE_PASSWORD.sub(r"\g<head>***", masked)
    return _ODBC_PASSWORD.sub(r"\g<head>***", masked)


#: Why a database URL whose password holds a raw '@' is refused.
UNESCAPED_AT = (
    "its password or user name holds an unescaped '@', so the host would be read "
    "as part of the password; write '@' as %40"
)


def has_unescaped_at(host: str | None) -> bool:
    """Whether a parsed URL's host still holds an '@' (``user:p@ss@host``).

    SQLAlchemy splits such a URL at the first '@': the password is cut short and
    the driver's own error text then quotes the rest, password included.
    """
    return host is not None and "@" in host


class MigrationError(Exception):
    """Root of the errors that mean itilmigrate could not do its job."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL


class ConfigError(MigrationError):
    """A job, mapping, rule or policy definition is invalid; no data was touched."""

    exit_code: ClassVar[ExitCode] = ExitCode.CONFIG

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DefinitionProblem:
    """One problem in a definition file: where it is and what was expected."""

    file: str
    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        line = f" (line {self.line})" if self.line is not None else ""
        return f"{self.file}: {self.location}{line}: {self.message}"


class MappingDefinitionError(ConfigError):
    """A mapping definition has one or more problems, all listed at once."""

    def __init__(
        self, problems: list[DefinitionProblem], *, path: str, what: str = "Mapping"
    ) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{what} definition is invalid ({count} {noun}):\n{lines}\n"
            "hint: fix every listed place; the README describes the format.",
            path=None,
        )
        self.path = path


class RuleDefinitionError(ConfigError):
    """A compliance rule is defined wrongly (duplicate id, bad severity)."""


class UnsupportedFeatureError(ConfigError):
    """A definition asks for something itilmigrate does not implement."""


class SourceError(MigrationError):
    """A source cannot be read: missing file, unreachable database, bad login."""

    exit_code: ClassVar[ExitCode] = ExitCode.IO

    def __init__(
        self, message: str, *, source_name: str | None = None, table: str | None = None
    ) -> None:
        self.source_name = source_name
        self.table = table
        where = ""
        if source_name:
            where = f"Source {source_name!r}"
            where += f", table {table!r}: " if table else ": "
        super().__init__(mask_secrets(f"{where}{message}"))


class TargetError(MigrationError):
    """The target cannot be written; the message says what was rolled back."""

    exit_code: ClassVar[ExitCode] = ExitCode.IO

    def __init__(self, message: str, *, batch_id: str | None = None) -> None:
        self.batch_id = batch_id
        if batch_id:
            message = (
                f"{message} Batch {batch_id!r} was rolled back; earlier batches stay "
                "committed.\nhint: rerunning the job is safe, loads upsert by legacy "
                "key."
            )
        super().__init__(mask_secrets(message))


class TransientTargetError(TargetError):
    """A retryable target failure (deadlock, lock timeout, lost connection)."""


class RecordError(MigrationError):
    """A legacy record cannot become an entity; it is quarantined, never raised out."""

    def __init__(
        self, message: str, *, reason: str, legacy_id: str | None = None
    ) -> None:
        self.reason = reason
        self.legacy_id = legacy_id
        super().__init__(message)


class ConversionError(RecordError):
    """A converter could not turn a legacy value into a target value."""


class EntityValidationError(RecordError):
    """An entity failed validation (field locations only, never values)."""
