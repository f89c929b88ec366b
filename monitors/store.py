"""Where the engine keeps its state between events: the `MonitorStore` protocol.

Four kinds of state, each under its own key:

- principal baselines, by `monitors.context.principal_key`;
- source-address baselines, by IP address;
- one learned model per category;
- session contexts, by session id.

`MemoryStore` keeps the objects themselves in dicts, for tests, benchmarks and
replays in one process. `EncodedStore` keeps them serialized in any mutable
mappings; the Faust worker (`monitors.worker`) gives it changelog-backed tables,
so that the state survives restarts.
"""

from __future__ import annotations

from collections.abc import MutableMapping
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


class EncodedStore:
    """The engine's state as bytes, in mutable mappings: dicts, or Faust tables.

    Baselines and contexts are read from and written to their mapping on every
    event, so the mapping (a changelog-backed table in the worker) is always the
    truth. Models are large (about 11 kB) and change with every event, so they
    are kept live in memory and written out every `model_every` saves: after a
    crash, a model has lost at most that many events of learning, which only
    delays its calibration a little. `model_scope` tells models apart that share
    a category, such as one per partition in the worker.
    """

    def __init__(
        self,
        principals: MutableMapping[bytes, bytes],
        sources: MutableMapping[bytes, bytes],
        models: MutableMapping[bytes, bytes],
        contexts: MutableMapping[bytes, bytes],
        model_every: int = 1,
    ) -> None:
        self.principals = principals
        self.sources = sources
        self.models = models
        self.contexts = contexts
        self.model_every = model_every
        self.model_scope = ""
        self._live_models: dict[bytes, CategoryModel] = {}
        self._unsaved: dict[bytes, int] = {}

    def _model_key(self, category: SessionCategory) -> bytes:
        return f"{category.value}@{self.model_scope}".encode()

    def principal(self, key: str) -> PrincipalBaseline | None:
        raw = self.principals.get(key.encode())
        return None if raw is None else PrincipalBaseline.from_bytes(raw)

    def save_principal(self, key: str, baseline: PrincipalBaseline) -> None:
        self.principals[key.encode()] = baseline.to_bytes()

    def source(self, address: str) -> SourceBaseline | None:
        raw = self.sources.get(address.encode())
        return None if raw is None else SourceBaseline.from_bytes(raw)

    def save_source(self, address: str, baseline: SourceBaseline) -> None:
        self.sources[address.encode()] = baseline.to_bytes()

    def model(self, category: SessionCategory) -> CategoryModel | None:
        key = self._model_key(category)
        live = self._live_models.get(key)
        if live is None:
            raw = self.models.get(key)
            if raw is None:
                return None
            live = self._live_models[key] = CategoryModel.from_bytes(raw)
        return live

    def save_model(self, category: SessionCategory, model: CategoryModel) -> None:
        key = self._model_key(category)
        self._live_models[key] = model
        unsaved = self._unsaved.get(key, 0) + 1
        if unsaved >= self.model_every:
            self.models[key] = model.to_bytes()
            unsaved = 0
        self._unsaved[key] = unsaved

    def context(self, session_id: str) -> SessionContext | None:
        raw = self.contexts.get(session_id.encode())
        return None if raw is None else SessionContext.from_bytes(raw)

    def save_context(self, session_id: str, context: SessionContext) -> None:
        self.contexts[session_id.encode()] = context.to_bytes()

    def forget_models(self) -> None:
        """Drop the live models, so that the next read comes from the mapping."""
        self._live_models.clear()
        self._unsaved.clear()
