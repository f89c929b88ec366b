"""`ledger schemas`: export and check the JSON Schema files of the contract."""

from __future__ import annotations

from pathlib import Path

import typer

from schemas.export import DEFAULT_DIRECTORY, export_json_schemas, json_schema_drift

app = typer.Typer(
    help="JSON Schema files of every event, command and output.",
    no_args_is_help=True,
)


@app.command()
def export(
    directory: Path = typer.Argument(
        DEFAULT_DIRECTORY, help="Where to write the *.schema.json files."
    ),
) -> None:
    """Write one schema file per model, removing stale ones."""
    written = export_json_schemas(directory)
    typer.echo(f"wrote {len(written)} schema files to {directory}")


@app.command()
def check(
    directory: Path = typer.Argument(
        DEFAULT_DIRECTORY, help="The directory to compare with the models."
    ),
) -> None:
    """Exit 1 when the schema files in DIRECTORY differ from the models."""
    drift = json_schema_drift(directory)
    for line in drift:
        typer.echo(line, err=True)
    if drift:
        typer.echo(
            f"{len(drift)} schema files out of date; run `ledger schemas export`",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"schema files in {directory} are up to date")
