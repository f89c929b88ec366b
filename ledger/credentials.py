"""Bearer credentials for the worker's HTTP API, and who each one is.

Three roles: producers append events, security admins revoke sessions, analysts
read. A credential set in the settings wins; a missing one is generated on first
use and kept in `<data_dir>/credentials.json` (mode 0600), where the CLI finds it.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ledger.settings import LedgerSettings

logger = logging.getLogger(__name__)


class Role(StrEnum):
    """What a credential may do."""

    PRODUCER = "producer"
    ADMIN = "admin"
    READER = "reader"


# An admin may also read; nobody but a producer appends and nobody but an admin
# revokes, so that a leaked producer token cannot cut sessions off.
GRANTS: dict[Role, frozenset[Role]] = {
    Role.PRODUCER: frozenset({Role.PRODUCER}),
    Role.ADMIN: frozenset({Role.ADMIN, Role.READER}),
    Role.READER: frozenset({Role.READER}),
}


@dataclass(frozen=True, repr=False)
class Credentials:
    """The three bearer tokens in force."""

    producer: str
    admin: str
    reader: str

    def __repr__(self) -> str:
        return "Credentials(producer=***, admin=***, reader=***)"

    def token_for(self, role: Role) -> str:
        """The token that carries `role`."""
        return {
            Role.PRODUCER: self.producer,
            Role.ADMIN: self.admin,
            Role.READER: self.reader,
        }[role]

    def identify(self, token: str | None) -> Role | None:
        """The role a presented token belongs to, or None; constant-time compare."""
        if not token:
            return None
        found = None
        for role in Role:
            if hmac.compare_digest(token.encode(), self.token_for(role).encode()):
                found = role
        return found


def credentials_file(settings: LedgerSettings) -> Path:
    """Where generated credentials are kept."""
    return settings.data_dir / "credentials.json"


def load_credentials(settings: LedgerSettings, *, create: bool = True) -> Credentials:
    """The credentials in force: settings first, then the file, else new ones."""
    path = credentials_file(settings)
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    configured = {
        Role.PRODUCER: settings.producer_token,
        Role.ADMIN: settings.admin_token,
        Role.READER: settings.reader_token,
    }
    tokens: dict[str, str] = {}
    generated = False
    for role, secret in configured.items():
        if secret is not None:
            tokens[role.value] = secret.get_secret_value()
        elif role.value in stored:
            tokens[role.value] = stored[role.value]
        else:
            tokens[role.value] = secrets.token_urlsafe(32)
            generated = True
    if generated and create:
        path.parent.mkdir(parents=True, exist_ok=True)
        unset = {role.value: tokens[role.value] for role in Role}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(unset, handle, indent=2)
        logger.info("generated API credentials; kept in %s (mode 0600)", path)
    return Credentials(**tokens)
