"""Reading the policy file: one YAML or JSON mapping of sections.

Both the ledger's policy (`ledger.policy`) and the monitors' section
(`monitors.policy`) come from the same file; this is the part they share, so
that a broken file is refused with the same words whichever reads it first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ledger.errors import ConfigurationError


def read_policy_document(path: Path) -> dict[str, Any]:
    """The mapping of sections in the policy file at `path` ({} when it is empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"policy file {path} cannot be read ({error.strerror}); the ledger "
            "cannot start without its policy"
        ) from error
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        if kind == "JSON":
            document = json.loads(text) if text.strip() else {}
        else:
            document = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ConfigurationError(
            f"policy file {path} is not valid {kind}: {error}"
        ) from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"policy file {path} must hold a mapping of sections (user, agent, "
            f"hybrid, monitors, ...), not a {type(document).__name__}"
        )
    return document


def describe_refusal(error: ValidationError) -> str:
    """Each refused field with its reason, on one line."""
    parts = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        parts.append(f"{field}: {detail['msg']}")
    return "; ".join(parts)
