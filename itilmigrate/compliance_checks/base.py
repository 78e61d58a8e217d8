"""Rules, the ``@rule`` decorator and the registry that holds them.

A rule is one compliance requirement over the migrated entities: a stable id, the
ITIL practice it belongs to, a default severity (the policy may override it), a
rationale taken from the evaluating function's docstring, the target tables it
reads, and the vectorised evaluation itself. Rule modules register their rules at
import time; :mod:`itilmigrate.compliance_checks` imports them explicitly.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.errors import RuleDefinitionError

if TYPE_CHECKING:
    from collections.abc import Callable

    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding

#: The signature of a rule's evaluation.
Evaluate: TypeAlias = "Callable[[RuleContext], list[Finding]]"

#: First part of a rule id: the entity type it judges, or a cross-entity family.
RULE_ID_PREFIXES: tuple[str, ...] = (
    "incident",
    "service_request",
    "problem",
    "record",
    "relation",
    "reconciliation",
)
RULE_ID_PATTERN = re.compile(
    r"^(?:" + "|".join(RULE_ID_PREFIXES) + r")\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
)


class Practice(StrEnum):
    """The ITIL practice a rule belongs to."""

    INCIDENT = "incident"
    PROBLEM = "problem"
    REQUEST_FULFILMENT = "request_fulfilment"
    SERVICE_LEVEL = "service_level"
    MIGRATION_FIDELITY = "migration_fidelity"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One compliance requirement and its vectorised evaluation."""

    rule_id: str
    title: str
    practice: Practice
    severity: Severity
    rationale: str
    needs: tuple[str, ...]
    evaluate: Evaluate


class RuleRegistry:
    """Rules by id; registering an id twice is a definition error."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> None:
        """Add ``rule``.

        Raises:
            RuleDefinitionError: The id is malformed or taken, the severity is not a
                :class:`Severity`, or the rationale is empty.
        """
        if not RULE_ID_PATTERN.match(rule.rule_id):
            raise RuleDefinitionError(
                f"Rule id {rule.rule_id!r} is not dotted snake_case starting with one "
                f"of {list(RULE_ID_PREFIXES)}."
            )
        if rule.rule_id in self._rules:
            raise RuleDefinitionError(f"Rule id {rule.rule_id!r} is registered twice.")
        if not isinstance(rule.severity, Severity):
            raise RuleDefinitionError(
                f"Rule {rule.rule_id!r} has severity {rule.severity!r}, not a Severity."
            )
        if not rule.rationale.strip():
            raise RuleDefinitionError(
                f"Rule {rule.rule_id!r} has no rationale (write its docstring)."
            )
        self._rules[rule.rule_id] = rule

    def get(self, rule_id: str) -> Rule:
        """Return the rule with ``rule_id``.

        Raises:
            RuleDefinitionError: No rule has that id.
        """
        try:
            return self._rules[rule_id]
        except KeyError:
            raise RuleDefinitionError(f"No rule with id {rule_id!r}.") from None

    def all(self) -> list[Rule]:
        """Return every rule, sorted by rule id."""
        return [self._rules[rule_id] for rule_id in sorted(self._rules)]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __len__(self) -> int:
        return len(self._rules)


#: The registry the bundled rules register in.
registry = RuleRegistry()


def rule(
    rule_id: str,
    *,
    title: str,
    practice: Practice,
    severity: Severity,
    needs: tuple[str, ...],
    into: RuleRegistry | None = None,
) -> Callable[[Evaluate], Evaluate]:
    """Register the decorated function as the evaluation of rule ``rule_id``.

    The function's docstring becomes the rule's rationale: the requirement, then
    why (policy or SLA), then what passes. The function is returned unchanged.

    Args:
        rule_id: Dotted snake_case id, entity type first.
        title: One line for reports.
        practice: The ITIL practice the rule belongs to.
        severity: The default severity.
        needs: Target tables (and ``policy``) the rule reads.
        into: The registry to add to (the default registry when None).

    Raises:
        RuleDefinitionError: See :meth:`RuleRegistry.register`.
    """

    def decorate(function: Evaluate) -> Evaluate:
        (into if into is not None else registry).register(
            Rule(
                rule_id=rule_id,
                title=title,
                practice=practice,
                severity=severity,
                rationale=inspect.cleandoc(function.__doc__ or ""),
                needs=needs,
                evaluate=function,
            )
        )
        return function

    return decorate
