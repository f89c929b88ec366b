"""JSON Schema files for producers and consumers in other languages.

One file per event, command and output model, plus the two unions. The output is
byte-for-byte reproducible (sorted keys, two-space indent, trailing newline), so
`schemas/json/` is committed and a test fails when it drifts from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from schemas.commands import COMMAND_TYPES, RevocationCommand
from schemas.events import EVENT_TYPES, AuthEvent
from schemas.outputs import (
    Alert,
    DeadLetter,
    RevocationNotice,
    SessionView,
    ValidityAnswer,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:session-ledger:schema:"
SUFFIX = ".schema.json"
DEFAULT_DIRECTORY = Path(__file__).parent / "json"
"""`schemas/json/` beside this module."""

_OUTPUTS: dict[str, type[BaseModel]] = {
    "alert": Alert,
    "dead-letter": DeadLetter,
    "revocation-notice": RevocationNotice,
    "session-view": SessionView,
    "validity-answer": ValidityAnswer,
}


def json_schemas() -> dict[str, str]:
    """The text of every schema file, by file name."""
    schemas: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, model in (
        *EVENT_TYPES.items(),
        *COMMAND_TYPES.items(),
        *_OUTPUTS.items(),
    ):
        schemas[name] = (model.__name__, model.model_json_schema())
    schemas["auth-event"] = ("AuthEvent", TypeAdapter(AuthEvent).json_schema())
    schemas["revocation-command"] = (
        "RevocationCommand",
        TypeAdapter(RevocationCommand).json_schema(),
    )
    return {
        name + SUFFIX: _render(name, title, schema)
        for name, (title, schema) in sorted(schemas.items())
    }


def export_json_schemas(directory: Path = DEFAULT_DIRECTORY) -> list[Path]:
    """Write every schema file into `directory`, removing stale ones; return them."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = json_schemas()
    for stale in directory.glob("*" + SUFFIX):
        if stale.name not in expected:
            stale.unlink()
    written = []
    for name, text in expected.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def json_schema_drift(directory: Path = DEFAULT_DIRECTORY) -> list[str]:
    """How `directory` differs from the models, one line per file; empty if not."""
    expected = json_schemas()
    found = {path.name: path for path in directory.glob("*" + SUFFIX)}
    drift = [f"missing: {name}" for name in expected if name not in found]
    drift += [f"stale: {name}" for name in sorted(found) if name not in expected]
    drift += [
        f"differs: {name}"
        for name, text in expected.items()
        if name in found and found[name].read_text(encoding="utf-8") != text
    ]
    return drift


def _render(name: str, title: str, schema: dict[str, Any]) -> str:
    document = {"$schema": DIALECT, "$id": ID_PREFIX + name, **schema, "title": title}
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
