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

import logging
from collections.abc import MutableMapping
from typing import Protocol

from monitors.baselines import BaselineUnreadable, PrincipalBaseline, SourceBaseline
from monitors.context import SessionContext
from monitors.detectors.learned import CategoryModel
from schemas import SessionCategory

logger = logging.getLogger(__name__)


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
    delays its calibration a little. `scope` tells apart the models and source
    baselines of different partitions in the worker, where a key must only ever
    be written from one partition.

    Stored bytes that cannot be read (a corrupt or newer record) are logged and
    replaced by a fresh baseline, which starts its warm-up again.
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
        self.scope = ""
        self._live_models: dict[bytes, CategoryModel] = {}
        self._unsaved: dict[bytes, int] = {}

    def _model_key(self, category: SessionCategory) -> bytes:
        return f"{category.value}@{self.scope}".encode()

    def _source_key(self, address: str) -> bytes:
        return f"{self.scope}/{address}".encode()

    def principal(self, key: str) -> PrincipalBaseline | None:
        raw = self.principals.get(key.encode())
        if raw is None:
            return None
        try:
            return PrincipalBaseline.from_bytes(raw)
        except BaselineUnreadable as error:
            logger.warning(
                "%s; %s starts a fresh baseline and warms up again", error, key
            )
            return None

    def save_principal(self, key: str, baseline: PrincipalBaseline) -> None:
        self.principals[key.encode()] = baseline.to_bytes()

    def source(self, address: str) -> SourceBaseline | None:
        raw = self.sources.get(self._source_key(address))
        if raw is None:
            return None
        try:
            return SourceBaseline.from_bytes(raw)
        except BaselineUnreadable as error:
            logger.warning("%s; address %s starts a fresh baseline", error, address)
            return None

    def save_source(self, address: str, baseline: SourceBaseline) -> None:
        self.sources[self._source_key(address)] = baseline.to_bytes()

    def model(self, category: SessionCategory) -> CategoryModel | None:
        key = self._model_key(category)
        live = self._live_models.get(key)
        if live is None:
            raw = self.models.get(key)
            if raw is None:
                return None
            try:
                live = CategoryModel.from_bytes(raw)
            except BaselineUnreadable as error:
                logger.warning("%s; the %s model starts again", error, category.value)
                return None
            self._live_models[key] = live
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
