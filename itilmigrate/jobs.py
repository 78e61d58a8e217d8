"""Job files: which source, which mapping, which target, which options."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from itilmigrate.errors import ConfigError, DefinitionProblem, MappingDefinitionError
from itilmigrate.extract.base import CsvSourceSpec, SourceSpec, SqlSourceSpec
from itilmigrate.yamlio import decode_definition, load_yaml, quote_impossible_dates

_STRICT = ConfigDict(extra="forbid", frozen=True)
DEFAULT_TARGET = "sqlite:///itilmigrate-target.db"


class JobOptions(BaseModel):
    """Options a job file may set; command-line flags override them."""

    model_config = _STRICT

    batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    source_system: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    timezone: str | None = None
    report_dir: str = "reports"
    export_dir: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"unknown time zone {value!r}; use an IANA name such as "
                    "'Europe/London'"
                ) from exc
        return value


class JobSpec(BaseModel):
    """A job file: ``itilmigrate run JOB.yaml``."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    source: SourceSpec
    mapping: str
    target: str = DEFAULT_TARGET
    options: JobOptions = Field(default_factory=JobOptions)


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """Make a relative ``sqlite:///file.db`` URL relative to ``base_dir``."""
    match = re.match(r"^(sqlite(?:\+\w+)?:///)(?!/)(.+)$", url)
    if match is None or match.group(2).startswith(":memory:"):
        return url
    return f"{match.group(1)}{(base_dir / match.group(2)).resolve()}"


def resolve_paths(job: JobSpec, base_dir: Path) -> JobSpec:
    """Return ``job`` with relative paths made relative to ``base_dir``."""
    source: Any = job.source
    if isinstance(source, CsvSourceSpec) and not Path(source.path).is_absolute():
        source = source.model_copy(
            update={"path": str((base_dir / source.path).resolve())}
        )
    elif isinstance(source, SqlSourceSpec):
        source = source.model_copy(
            update={"url": resolve_sqlite_url(source.url, base_dir)}
        )
    options = job.options
    updates: dict[str, Any] = {"report_dir": str(base_dir / options.report_dir)}
    if options.export_dir is not None:
        updates["export_dir"] = str(base_dir / options.export_dir)
    mapping = job.mapping
    if mapping.endswith((".yaml", ".yml")) and not Path(mapping).is_absolute():
        mapping = str(base_dir / mapping)
    return job.model_copy(
        update={
            "source": source,
            "target": resolve_sqlite_url(job.target, base_dir),
            "options": options.model_copy(update=updates),
            "mapping": mapping,
        }
    )


def load_job(path: Path) -> JobSpec:
    """Read and validate a job file, with every problem listed at once.

    Raises:
        ConfigError: the file cannot be read or is not valid YAML.
        MappingDefinitionError: the file is not UTF-8 or the job definition is
            invalid (exit 3).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the job file ({exc.strerror}).", path=str(path)
        ) from exc
    text = decode_definition(raw, file=str(path), what="job")
    try:
        data = load_yaml(quote_impossible_dates(text, yaml.compose(text)))
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"The job file is not valid YAML: {exc}", path=str(path)
        ) from exc
    try:
        job = JobSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            DefinitionProblem(
                file=str(path),
                location=".".join(str(p) for p in error["loc"]) or "(top level)",
                message=error["msg"],
            )
            for error in exc.errors(include_url=False)
        ]
        raise MappingDefinitionError(problems, path=str(path), what="Job") from exc
    return resolve_paths(job, path.parent.resolve())
