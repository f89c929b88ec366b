"""Where the engine keeps its state between events: the `MonitorStore` protocol.

Four kinds of state, each under its own key:

- principal baselines, by `monitors.context.principal_key`;
- source-address baselines, by IP address;
- one learned model per category;
- session contexts, by session id.

`MemoryStore` keeps them in dicts, for tests, benchmarks and replays in one
process. The Faust worker (`monitors.worker`) implements the same protocol over
changelog-backed tables, so that the state survives restarts.
"""

from __future__ import annotations

from typing import Protocol

from monitors.baselines import PrincipalBaseline, SourceBaseline
from monitors.context import SessionContext
from monitors.detectors.learned import CategoryModel
from schemas import SessionCategory


class MonitorStore(Protocol):
    """Reads and writes the engine's state; None means "never seen"."""

    def principal(self, key: str) -> PrincipalBaseline | None:
        """The baseline kept under `key`."""
        ...

    def save_principal(self, key: str, baseline: PrincipalBaseline) -> None:
        """Keep `baseline` under `key`."""
        ...

    def source(self, address: str) -> SourceBaseline | None:
        """The baseline of source address `address`."""
        ...

    def save_source(self, address: str, baseline: SourceBaseline) -> None:
        """Keep the baseline of `address`."""
        ...

    def model(self, category: SessionCategory) -> CategoryModel | None:
        """The learned model of `category`."""
        ...

    def save_model(self, category: SessionCategory, model: CategoryModel) -> None:
        """Keep the model of `category` (a store may write it out only now and then)."""
        ...

    def context(self, session_id: str) -> SessionContext | None:
        """The context of `session_id`."""
        ...

    def save_context(self, session_id: str, context: SessionContext) -> None:
        """Keep the context of `session_id`."""
        ...


class MemoryStore:
    """The engine's state in dicts; objects are kept as they are, not serialized."""

    def __init__(self) -> None:
        self.principals: dict[str, PrincipalBaseline] = {}
        self.sources: dict[str, SourceBaseline] = {}
        self.models: dict[SessionCategory, CategoryModel] = {}
        self.contexts: dict[str, SessionContext] = {}

    def principal(self, key: str) -> PrincipalBaseline | None:
        return self.principals.get(key)

    def save_principal(self, key: str, baseline: PrincipalBaseline) -> None:
        self.principals[key] = baseline

    def source(self, address: str) -> SourceBaseline | None:
        return self.sources.get(address)

    def save_source(self, address: str, baseline: SourceBaseline) -> None:
        self.sources[address] = baseline

    def model(self, category: SessionCategory) -> CategoryModel | None:
        return self.models.get(category)

    def save_model(self, category: SessionCategory, model: CategoryModel) -> None:
        self.models[category] = model

    def context(self, session_id: str) -> SessionContext | None:
        return self.contexts.get(session_id)

    def save_context(self, session_id: str, context: SessionContext) -> None:
        self.contexts[session_id] = context
