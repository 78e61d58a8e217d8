"""YAML reading for definition files: safe, and strict about repeated keys."""

from __future__ import annotations

from typing import Any

import yaml

from itilmigrate.errors import DefinitionProblem, MappingDefinitionError

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping.

    PyYAML keeps the last of two equal keys, so a field written twice in a
    mapping file would silently lose its first definition.
    """

    def construct_mapping(
        self,
        node: yaml.MappingNode,
        deep: bool = False,  # noqa: FBT001, FBT002 - PyYAML's own signature
    ) -> Any:  # noqa: ANN401 - PyYAML's own signature
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice; keep one",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:  # noqa: ANN401 - YAML holds any structure
    """Parse YAML safely; a repeated key is a ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Return the 1-based line of the deepest YAML key or item on the path ``loc``.

    ``root`` is the composed document (``yaml.compose``); ``loc`` a pydantic error
    location. Definition errors use it to name the line of the offending key.
    """
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def dotted(loc: tuple[int | str, ...]) -> str:
    """Return a location as a YAML path: ``sources[2].fields.status``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "(top level)"


def decode_definition(raw: bytes, *, file: str, what: str) -> str:
    """Decode a definition file as UTF-8, or raise naming the first bad byte's line.

    Args:
        raw: The file's bytes.
        file: Where they came from, for the message.
        what: The kind of file, ``"mapping"``, ``"job"`` or ``"policy"``.

    Raises:
        MappingDefinitionError: the bytes are not UTF-8 (exit 3).
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = DefinitionProblem(
            file=file,
            location="(file)",
            line=raw.count(b"\n", 0, exc.start) + 1,
            message=(
                f"cannot read the {what} file: byte {raw[exc.start]:#04x} at offset "
                f"{exc.start} is not UTF-8; save the file as UTF-8"
            ),
        )
        raise MappingDefinitionError(
            [problem], path=file, what=what.capitalize()
        ) from exc


def quote_impossible_dates(text: str, root: yaml.Node | None) -> str:
    """Return ``text`` with every impossible plain YAML date quoted as a string.

    PyYAML reads an unquoted ``2016-02-30`` as a date and fails with a bare
    ValueError, which no caller expects. Quoting it keeps the line numbers and lets
    validation report it at its key path, together with every other problem.

    Args:
        text: The YAML text.
        root: Its composed document (``yaml.compose(text)``).
    """
    constructor = yaml.SafeLoader("")
    spans: list[tuple[int, int]] = []
    seen: set[int] = set()
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            pending.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif (
            isinstance(node, yaml.ScalarNode)
            and node.tag == _TIMESTAMP_TAG
            and node.style is None
        ):
            start, end = node.start_mark.index, node.end_mark.index
            try:
                constructor.construct_yaml_timestamp(node)
            except ValueError:
                if text[start:end] == node.value:
                    spans.append((start, end))
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]}'{text[start:end]}'{text[end:]}"
    return text
