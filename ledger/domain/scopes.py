"""Scope grants: which resources and operations a session may touch.

A scope's `resource` is a glob in which `*` matches any run of characters, `/`
included, and every other character matches itself (`?` and `[` are literal,
because URLs and ARNs contain them). The match is on the whole resource and is
case-sensitive. The operation `*` allows every operation.

A session that declares no scopes is not resource-scoped: nothing it touches is
out of scope. A hybrid session that declares none while its user session has some
therefore holds more than its user, and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from schemas import Scope

ANY_OPERATION = "*"


@lru_cache(maxsize=4096)
def _pattern(glob: str) -> re.Pattern[str]:
    # re.DOTALL: resources may hold newlines; `*` must still match them.
    parts = (re.escape(part) for part in glob.split("*"))
    return re.compile(".*".join(parts), re.DOTALL)


def resource_matches(glob: str, resource: str) -> bool:
    """Whether `resource` is one of the resources `glob` names."""
    if "*" not in glob:
        return glob == resource
    return _pattern(glob).fullmatch(resource) is not None


def allows(scopes: Iterable[Scope], resource: str, operation: str) -> bool:
    """Whether some scope grants `operation` on `resource`."""
    for scope in scopes:
        operations = scope.operations
        if (
            operation in operations or ANY_OPERATION in operations
        ) and resource_matches(scope.resource, resource):
            return True
    return False


def covers(granted: tuple[Scope, ...], asked: Scope) -> bool:
    """Whether `granted` allows every operation of `asked` on all it names.

    The asked pattern is matched as text against the granted globs, its own `*`
    taken literally. That is sound: a granted `*` that absorbs the asked `*`
    absorbs whatever the asked `*` stands for. It can miss exotic overlaps (two
    granted scopes that only together cover the asked one); those are refused.
    """
    for operation in asked.operations:
        if not any(
            (operation in scope.operations or ANY_OPERATION in scope.operations)
            and resource_matches(scope.resource, asked.resource)
            for scope in granted
        ):
            return False
    return True


def beyond(granted: tuple[Scope, ...], asked: tuple[Scope, ...]) -> tuple[Scope, ...]:
    """The asked scopes that `granted` does not cover; empty `granted` is no limit.

    An empty `asked` means "no limit" and so lies beyond any non-empty grant; it is
    reported as a single `*` scope.
    """
    if not granted:
        return ()
    if not asked:
        return (Scope(resource="*", operations=(ANY_OPERATION,)),)
    return tuple(scope for scope in asked if not covers(granted, scope))
