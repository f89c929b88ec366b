"""Scope globs: `*` spans `/`, everything else is literal; coverage is sound."""

from __future__ import annotations

import pytest

from ledger.domain.scopes import allows, beyond, covers, resource_matches
from schemas import Scope


@pytest.mark.parametrize(
    ("glob", "resource", "matches"),
    [
        ("s3://invoices/*", "s3://invoices/2025/03/a.pdf", True),
        ("s3://invoices/*", "s3://invoices-old/a.pdf", False),
        ("s3://invoices/*.pdf", "s3://invoices/a.pdf.txt", False),
        ("https://api/x?page=1", "https://api/x?page=1", True),
        ("https://api/x?page=1", "https://api/x!page=1", False),
        ("arn:aws:s3:::b[1]", "arn:aws:s3:::b1", False),
        ("table:sales", "table:Sales", False),
        ("*", "anything\nat all", True),
    ],
)
def test_resource_matches_glob_star_only(
    glob: str, resource: str, matches: bool
) -> None:
    assert resource_matches(glob, resource) is matches


def test_allows_operation_star_grants_every_operation() -> None:
    scopes = (Scope(resource="db:hr/*", operations=("*",)),)

    assert allows(scopes, "db:hr/salaries", "delete")
    assert not allows(scopes, "db:finance/ledger", "read")


def test_covers_narrower_pattern_and_subset_operations() -> None:
    granted = (Scope(resource="s3://invoices/*", operations=("read", "list")),)

    assert covers(granted, Scope(resource="s3://invoices/2025/*", operations=("read",)))
    assert not covers(granted, Scope(resource="s3://*", operations=("read",)))
    assert not covers(granted, Scope(resource="s3://invoices/*", operations=("write",)))


def test_beyond_empty_grant_is_no_limit_and_empty_ask_is_everything() -> None:
    granted = (Scope(resource="s3://invoices/*", operations=("read",)),)

    assert beyond((), (Scope(resource="*", operations=("*",)),)) == ()
    assert [scope.resource for scope in beyond(granted, ())] == ["*"]
