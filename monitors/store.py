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
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any, Protocol

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


_Change = tuple[MutableMapping[bytes, bytes], bytes, Any]


class EncodedStore:
    """The engine's state as bytes, in mutable mappings: dicts, or Faust tables.

    By default baselines and contexts are written to their mapping on every event,
    so the mapping always holds the truth. With `write_back`, the worker's mode,
    they are kept decoded and written out only by `flush`, once for many events:
    a principal's baseline (over a kilobyte) changes with each of its events, and
    writing it to a changelog-backed table every time was most of the monitors'
    cost. The caller must hold back the acknowledgement of every event whose
    effect has not been flushed (`monitors.worker` does), so that a crash loses
    nothing: the events after the last flush are read again and applied to the
    state that flush wrote.

    The objects last read or written are kept decoded, up to `cached` of each
    kind beyond those waiting for a flush, so that a busy principal is not decoded
    again for each event; `forget` drops them, and every unflushed change, when
    the mapping may have changed behind the store's back (the worker calls it when
    partitions are revoked, after which Faust reads every partition again from
    its committed offset).

    Models are large (about 11 kB) and change with every event, so they are kept
    live in memory and written out every `model_every` saves: after a crash, a
    model has lost at most that many events of learning, which only delays its
    calibration a little. `scope` tells apart the models and source baselines of
    different partitions in the worker, where a key must only ever be written
    from one partition; `flush` writes one scope's changes.

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
        cached: int = 50_000,
        write_back: bool = False,
    ) -> None:
        self.principals = principals
        self.sources = sources
        self.models = models
        self.contexts = contexts
        self.model_every = model_every
        self.scope = ""
        self.cached = cached
        self.write_back = write_back
        self._principals: OrderedDict[bytes, PrincipalBaseline] = OrderedDict()
        self._contexts: OrderedDict[bytes, SessionContext] = OrderedDict()
        self._live_models: dict[bytes, CategoryModel] = {}
        self._unsaved: dict[bytes, int] = {}
        # Changes not yet written: by scope, then by (id of the mapping, key), each
        # as (mapping, key, object).
        self._dirty: dict[str, dict[tuple[int, bytes], _Change]] = {}

    def _remember(self, cache: OrderedDict[bytes, Any], key: bytes, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > self.cached:
            cache.popitem(last=False)

    def _unflushed(self, mapping: MutableMapping[bytes, bytes], key: bytes) -> Any:
        dirty = self._dirty.get(self.scope)
        return None if dirty is None else dirty.get((id(mapping), key))

    def _write(
        self, mapping: MutableMapping[bytes, bytes], key: bytes, value: Any
    ) -> None:
        if self.write_back:
            self._dirty.setdefault(self.scope, {})[(id(mapping), key)] = (
                mapping,
                key,
                value,
            )
        else:
            mapping[key] = value.to_bytes()

    def _read(self, mapping: MutableMapping[bytes, bytes], key: bytes) -> Any:
        """The unflushed object under `key`, else the mapping's bytes (or None)."""
        pending = self._unflushed(mapping, key)
        return pending[2] if pending is not None else mapping.get(key)

    def _model_key(self, category: SessionCategory) -> bytes:
        return f"{category.value}@{self.scope}".encode()

    def _source_key(self, address: str) -> bytes:
        return f"{self.scope}/{address}".encode()

    def principal(self, key: str) -> PrincipalBaseline | None:
        encoded = key.encode()
        cached = self._principals.get(encoded)
        if cached is not None:
            return cached
        stored = self._read(self.principals, encoded)
        if stored is None or isinstance(stored, PrincipalBaseline):
            return stored
        try:
            baseline = PrincipalBaseline.from_bytes(stored)
        except BaselineUnreadable as error:
            logger.warning(
                "%s; %s starts a fresh baseline and warms up again", error, key
            )
            return None
        self._remember(self._principals, encoded, baseline)
        return baseline

    def save_principal(self, key: str, baseline: PrincipalBaseline) -> None:
        encoded = key.encode()
        self._write(self.principals, encoded, baseline)
        self._remember(self._principals, encoded, baseline)

    def source(self, address: str) -> SourceBaseline | None:
        stored = self._read(self.sources, self._source_key(address))
        if stored is None or isinstance(stored, SourceBaseline):
            return stored
        try:
            return SourceBaseline.from_bytes(stored)
        except BaselineUnreadable as error:
            logger.warning("%s; address %s starts a fresh baseline", error, address)
            return None

    def save_source(self, address: str, baseline: SourceBaseline) -> None:
        self._write(self.sources, self._source_key(address), baseline)

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
        encoded = session_id.encode()
        cached = self._contexts.get(encoded)
        if cached is not None:
            return cached
        stored = self._read(self.contexts, encoded)
        if stored is None or isinstance(stored, SessionContext):
            return stored
        context = SessionContext.from_bytes(stored)
        self._remember(self._contexts, encoded, context)
        return context

    def save_context(self, session_id: str, context: SessionContext) -> None:
        encoded = session_id.encode()
        self._write(self.contexts, encoded, context)
        self._remember(self._contexts, encoded, context)

    def unflushed(self, scope: str) -> int:
        """How many changes of `scope` wait for `flush`."""
        return len(self._dirty.get(scope, ()))

    def flush(self, scope: str) -> int:
        """Write every change of `scope` to its mapping; return how many.

        In the worker this runs while an event of that scope's partition is
        processed, as Faust requires of every table write.
        """
        dirty = self._dirty.pop(scope, None)
        if not dirty:
            return 0
        for mapping, key, value in dirty.values():
            mapping[key] = value.to_bytes()
        return len(dirty)

    def forget(self) -> None:
        """Drop every decoded object and every unflushed change, so that the next
        reads come from the mappings.

        Learning a model has not yet written out is lost: this partition's model
        resumes from its last write, wherever it is read next.
        """
        self._principals.clear()
        self._contexts.clear()
        self._live_models.clear()
        self._unsaved.clear()
        self._dirty.clear()
