"""The committed JSON Schema files are exactly what the models export."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import schemas as schemas_cli
from schemas import EVENT_TYPES, serialize
from schemas.examples import examples
from schemas.export import DEFAULT_DIRECTORY, export_json_schemas, json_schema_drift


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_export_json_schemas_reproduces_committed_files(tmp_path: Path) -> None:
    export_json_schemas(tmp_path)

    assert _files(tmp_path) == _files(DEFAULT_DIRECTORY), (
        "schemas/json is out of date: run `ledger schemas export`"
    )


def test_export_json_schemas_twice_same_bytes(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in export_json_schemas(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in export_json_schemas(tmp_path / "b")}

    assert first == second
    assert all(text.endswith(b"}\n") for text in first.values())


def test_export_json_schemas_one_file_per_type(tmp_path: Path) -> None:
    names = {path.name for path in export_json_schemas(tmp_path)}

    assert {f"{t}.schema.json" for t in EVENT_TYPES} <= names
    assert {"auth-event.schema.json", "revocation-command.schema.json"} <= names
    assert len(names) == len(examples()) + 2


def test_export_json_schemas_stale_file_removed(tmp_path: Path) -> None:
    (tmp_path / "session.teleported.schema.json").write_text("{}\n")
    (tmp_path / "README.md").write_text("kept\n")

    export_json_schemas(tmp_path)

    assert not (tmp_path / "session.teleported.schema.json").exists()
    assert (tmp_path / "README.md").exists()


def test_json_schema_drift_changed_and_missing_files_listed(tmp_path: Path) -> None:
    export_json_schemas(tmp_path)
    (tmp_path / "alert.schema.json").write_text("{}\n")
    (tmp_path / "session.ended.schema.json").unlink()

    assert json_schema_drift(tmp_path) == [
        "missing: session.ended.schema.json",
        "differs: alert.schema.json",
    ]


def test_auth_event_schema_requires_type_and_ids_every_file(tmp_path: Path) -> None:
    for path in export_json_schemas(tmp_path):
        schema = json.loads(path.read_text())
        assert schema["$id"] == "urn:session-ledger:schema:" + path.name.removesuffix(
            ".schema.json"
        )
        assert schema["title"]
    union = json.loads((tmp_path / "auth-event.schema.json").read_text())
    assert set(union["discriminator"]["mapping"]) == set(EVENT_TYPES)
    for name in EVENT_TYPES:
        event = json.loads((tmp_path / f"{name}.schema.json").read_text())
        assert event["required"][0] == "type"


def test_examples_valid_against_exported_schemas_structure(tmp_path: Path) -> None:
    export_json_schemas(tmp_path)
    for name, model in EVENT_TYPES.items():
        schema = json.loads((tmp_path / f"{name}.schema.json").read_text())
        document = json.loads(serialize(examples()[model]))
        assert set(schema["required"]) <= set(document)
        assert set(document) <= set(schema["properties"])


def test_schemas_cli_check_fails_on_drift_then_passes_after_export(
    tmp_path: Path,
) -> None:
    runner = CliRunner()

    failed = runner.invoke(schemas_cli.app, ["check", str(tmp_path)])
    exported = runner.invoke(schemas_cli.app, ["export", str(tmp_path)])
    passed = runner.invoke(schemas_cli.app, ["check", str(tmp_path)])

    assert failed.exit_code == 1
    assert "run `ledger schemas export`" in failed.output
    assert exported.exit_code == 0 and "wrote 22 schema files" in exported.output
    assert passed.exit_code == 0, passed.output
