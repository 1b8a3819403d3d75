"""IAM's decision on one request, made as AWS's policy evaluation logic makes it for identity
policies and a permissions boundary (no resource policies, organisation policies or sessions).

An explicit Deny in any of them wins; otherwise the request needs an Allow in the identity
policies and, when there is a boundary, an Allow in the boundary too. Only the condition
operators this repository's documents use are implemented, and any other raises rather than
guess. No library does this on Python 3.11: principalmapper 1.1.5, which evaluates boundaries,
fails at import (`from collections import Mapping`).
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

Document = Mapping[str, Any]
Statement = Mapping[str, Any]
#: Request context keys: one value, or several (a multivalued key such as a list of tag keys).
Context = Mapping[str, str | tuple[str, ...]]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context = field(default_factory=dict)


def arn_like(value: str, pattern: str) -> bool:
    """ArnLike and ArnEquals (which IAM treats alike): each of the six colon-separated parts
    matches on its own, with `*` and `?` as wildcards."""
    values, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(values) == len(patterns) and all(map(fnmatchcase, values, patterns))


MATCHES: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": str.__eq__,
    "StringLike": fnmatchcase,
    "ArnEquals": arn_like,
    "ArnLike": arn_like,
}
NEGATIONS = {"StringNotEquals": "StringEquals"}


def condition_holds(
    operator: str, key: str, expected: str | Sequence[str], context: Context
) -> bool:
    qualifier, _, base = operator.rpartition(":")
    patterns = [expected] if isinstance(expected, str) else list(expected)
    if base == "Null" and not qualifier:
        (absent,) = patterns
        return (absent == "true") is (key not in context)
    if base in NEGATIONS and not qualifier:
        # A negated operator holds when the key is missing from the request.
        return not condition_holds(NEGATIONS[base], key, expected, context)
    if base not in MATCHES or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise ValueError(f"condition operator {operator} is not implemented here")
    if key not in context:
        return qualifier == "ForAllValues"
    value = context[key]
    if isinstance(value, str) and not qualifier:
        return any(MATCHES[base](value, pattern) for pattern in patterns)
    if isinstance(value, str) or not qualifier:
        raise ValueError(f"{key}: a multivalued key needs ForAllValues or ForAnyValue")
    matched = [any(MATCHES[base](item, pattern) for pattern in patterns) for item in value]
    return all(matched) if qualifier == "ForAllValues" else any(matched)


def listed(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def applies(statement: Statement, request: Request) -> bool:
    """The statement names the action and the resource, and all its conditions hold."""
    if "NotAction" in statement or "NotResource" in statement:
        raise ValueError("NotAction and NotResource are not implemented here")
    return (
        any(fnmatchcase(request.action.lower(), a.lower()) for a in listed(statement["Action"]))
        and any(fnmatchcase(request.resource, r) for r in listed(statement["Resource"]))
        and all(
            condition_holds(operator, key, expected, request.context)
            for operator, entries in statement.get("Condition", {}).items()
            for key, expected in entries.items()
        )
    )


def statements(documents: Sequence[Document], effect: str) -> Iterator[Statement]:
    for document in documents:
        yield from (s for s in document["Statement"] if s["Effect"] == effect)


def authorized(
    identity: Sequence[Document], request: Request, boundary: Document | None = None
) -> bool:
    """Whether IAM allows the request of a principal with these policies and boundary."""
    every = [*identity, *([boundary] if boundary is not None else [])]
    if any(applies(s, request) for s in statements(every, "Deny")):
        return False
    return any(applies(s, request) for s in statements(identity, "Allow")) and (
        boundary is None or any(applies(s, request) for s in statements([boundary], "Allow"))
    )
