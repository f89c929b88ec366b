"""HTTP plumbing of the worker: credentials, JSON bodies, and the health endpoint."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from faust.web import Request, Response, View

from ledger.credentials import GRANTS, Role
from ledger.worker.app import LedgerWorker

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]


def bearer_token(request: Request) -> str | None:
    """The bearer token of a request, if it carries one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def requires(worker: LedgerWorker, role: Role) -> Callable[[Handler], Handler]:
    """Refuse a view unless its bearer credential grants `role`.

    No or unknown credential: 401. A known credential without the grant: 403.
    The check happens before the body is read, so a refused call changes nothing.
    """

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(view: View, request: Request, **kwargs: Any) -> Response:
            presented = worker.credentials.identify(bearer_token(request))
            if presented is None:
                return view.json(
                    {"error": "missing or unknown bearer credential"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="session-ledger"'},
                )
            if role not in GRANTS[presented]:
                return view.json(
                    {"error": f"a {presented} credential may not do this"},
                    status=403,
                )
            return await handler(view, request, **kwargs)

        return guarded

    return decorate


def json_bytes(view: View, body: bytes, status: int = 200) -> Response:
    """A response whose JSON body is already serialized."""
    return view.bytes(body, content_type="application/json", status=status)


def install(worker: LedgerWorker) -> None:
    """Install the health endpoint."""
    app = worker.app

    @app.page("/health")
    class Health(View):
        """Liveness and readiness: 200 when serving, 503 while recovering tables."""

        async def get(self, request: Request) -> Response:
            recovering = bool(getattr(app, "in_recovery", False))
            if recovering or app.rebalancing:
                status = "recovering" if recovering else "rebalancing"
                return self.json({"status": status}, status=503)
            return self.json({"status": "ok", "components": worker.components})
