"""Read mapping definition files, collecting every problem before raising."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from itilmigrate.errors import DefinitionProblem, MappingDefinitionError
from itilmigrate.mappings.spec import MappingDefinition
from itilmigrate.yamlio import (
    decode_definition,
    dotted,
    line_of,
    load_yaml,
    quote_impossible_dates,
)

BUNDLED_PACKAGE = "itilmigrate.mappings.definitions"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedMapping:
    """A validated mapping with where it came from and its content hash."""

    definition: MappingDefinition
    path: str
    sha256: str


def bundled_names() -> list[str]:
    """Return the names of the mappings shipped with itilmigrate."""
    folder = resources.files(BUNDLED_PACKAGE)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def read_mapping_text(name_or_path: str) -> tuple[str, str]:
    """Return where a mapping comes from and its text, for checks that report it.

    Raises:
        MappingDefinitionError: the file is missing or not UTF-8 (exit 3).
    """
    file, raw = _locate(name_or_path, None)
    return file, decode_definition(raw, file=file, what="mapping")


def _locate(name_or_path: str, base_dir: Path | None) -> tuple[str, bytes]:
    if name_or_path in bundled_names():
        resource = resources.files(BUNDLED_PACKAGE).joinpath(f"{name_or_path}.yaml")
        return f"<bundled>/{name_or_path}.yaml", resource.read_bytes()
    path = Path(name_or_path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        return str(path), path.read_bytes()
    except OSError as exc:
        problem = DefinitionProblem(
            file=str(path),
            location="(file)",
            message=(
                f"cannot read the mapping file ({exc.strerror}); give a path or one of "
                f"the bundled names {bundled_names()}"
            ),
        )
        raise MappingDefinitionError([problem], path=str(path)) from exc


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Return the definition model found at ``loc`` (None past a free-form dict)."""
    model: type[BaseModel] = MappingDefinition
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = _first_model(field.annotation)
        if found is None:
            return None
        model = found
    return model


def _first_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _first_model(argument)
        if found is not None:
            return found
    return None


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    # A dict of models (value_maps, fields) puts the user's own key in the path.
    model = _model_at(loc) or _model_at(loc[:-1])
    if model is None:
        return []
    return sorted(f.alias or name for name, f in model.model_fields.items())


def parse_mapping(text: str, *, file: str) -> MappingDefinition:
    """Validate mapping ``text``; raise one error listing every problem.

    Raises:
        MappingDefinitionError: the YAML or the definition is invalid (exit 3).
    """
    try:
        root = yaml.compose(text)
        data: Any = load_yaml(quote_impossible_dates(text, root))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = DefinitionProblem(
            file=file,
            location="(yaml)",
            line=line,
            message=f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
        )
        raise MappingDefinitionError([problem], path=file) from exc
    if not isinstance(data, dict):
        problem = DefinitionProblem(
            file=file, location="(top level)", message="expected a mapping of keys"
        )
        raise MappingDefinitionError([problem], path=file)

    try:
        definition = MappingDefinition.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                allowed = _allowed_keys(loc[:-1])
                message = "unknown key (misspelt?)" + (
                    f"; expected one of {allowed}" if allowed else ""
                )
            problems.append(
                DefinitionProblem(
                    file=file,
                    location=dotted(loc),
                    line=line_of(root, loc),
                    message=message,
                )
            )
        raise MappingDefinitionError(problems, path=file) from exc

    cross = definition.cross_problems()
    if cross:
        problems = [
            DefinitionProblem(
                file=file,
                location=location,
                line=line_of(root, _split(location)),
                message=message,
            )
            for location, message in cross
        ]
        raise MappingDefinitionError(problems, path=file)
    return definition


def _split(location: str) -> tuple[int | str, ...]:
    parts: list[int | str] = []
    for chunk in location.replace("[", ".[").split("."):
        if chunk.startswith("["):
            parts.append(int(chunk.strip("[]")))
        elif chunk:
            parts.append(chunk)
    return tuple(parts)


def load_mapping(name_or_path: str, *, base_dir: Path | None = None) -> LoadedMapping:
    """Load a bundled mapping by name (``heat``) or a mapping file by path.

    Raises:
        MappingDefinitionError: the file is missing, not UTF-8 or invalid (exit 3).
    """
    file, raw = _locate(name_or_path, base_dir)
    text = decode_definition(raw, file=file, what="mapping")
    definition = parse_mapping(text, file=file)
    return LoadedMapping(
        definition=definition, path=file, sha256=hashlib.sha256(raw).hexdigest()
    )
