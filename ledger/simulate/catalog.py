"""The vocabulary of the simulated organisation: names, roles, resources, clients."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from schemas.values import Scope

TENANT = "acme"
DOMAIN = "acme.example"

FIRST_NAMES = (
    "anna", "ben", "chloe", "david", "elena", "farid", "grace", "hiro", "ines",
    "jonas", "kavya", "liam", "maria", "noah", "olga", "pedro", "quinn", "rahul",
    "sara", "tomas", "uma", "victor", "wen", "ximena", "yusuf", "zoe", "aiko",
    "bruno", "carla", "dmitri", "emma", "felix", "gita", "hannah", "ivan", "julia",
    "kenji", "lena", "mateo", "nadia", "oscar", "priya", "rosa", "sven", "tara",
)  # fmt: skip
LAST_NAMES = (
    "schmidt", "jones", "martin", "garcia", "mueller", "smith", "tanaka", "silva",
    "kumar", "dubois", "rossi", "nguyen", "kowalski", "brown", "weber", "sato",
    "fischer", "patel", "lopez", "novak", "wilson", "moreau", "ivanova", "chen",
    "khan", "becker", "costa", "larsen", "okafor", "yamamoto", "singh", "meyer",
)  # fmt: skip


@dataclass(frozen=True)
class ResourceSpace:
    """Resources one role or agent touches: name templates and their operations.

    `{n}` in a template becomes a number below `spread`; the part before the first
    `{` is the prefix its scope grants.
    """

    templates: tuple[tuple[str, tuple[str, ...]], ...]
    spread: int = 5000

    def pick(self, rng: Random) -> tuple[str, str]:
        """One (resource, operation) an access touches."""
        # random() over randrange(): this runs for every access, and is 3x faster.
        draw = rng.random
        template, operations = self.templates[int(draw() * len(self.templates))]
        resource = template.replace("{n}", str(1 + int(draw() * (self.spread - 1))))
        return resource, operations[int(draw() * len(operations))]

    def scopes(self) -> tuple[Scope, ...]:
        """The grants that cover every template, one per prefix."""
        granted: dict[str, set[str]] = {}
        for template, operations in self.templates:
            prefix = template.split("{", 1)[0]
            granted.setdefault(prefix + "*", set()).update(operations)
        return tuple(
            Scope(resource=resource, operations=tuple(sorted(operations)))
            for resource, operations in granted.items()
        )


READS = ("read", "read", "read", "list")
READ_WRITE = ("read", "read", "list", "write")

ROLE_WEIGHTS: dict[str, float] = {
    "engineer": 34,
    "sales": 15,
    "finance-analyst": 10,
    "support": 15,
    "hr": 5,
    "data-analyst": 21,
}

_COMMON = (
    ("app:wiki/pages/{n}", READS),
    ("mail:inbox/{n}", READ_WRITE),
    ("app:chat/channels/{n}", READ_WRITE),
)
ROLE_RESOURCES: dict[str, ResourceSpace] = {
    "engineer": ResourceSpace(
        (
            ("git:acme/repos/{n}", READ_WRITE),
            ("https://ci.acme.example/jobs/{n}", READS),
            *_COMMON,
        )
    ),
    "sales": ResourceSpace(
        (
            ("app:crm/accounts/{n}", READ_WRITE),
            ("app:crm/opportunities/{n}", READ_WRITE),
            *_COMMON,
        )
    ),
    "finance-analyst": ResourceSpace(
        (
            ("s3://acme-invoices/2026/inv-{n}.pdf", READS),
            ("app:erp/ledger/{n}", READ_WRITE),
            *_COMMON,
        )
    ),
    "support": ResourceSpace(
        (
            ("app:helpdesk/tickets/{n}", READ_WRITE),
            ("app:crm/accounts/{n}", READS),
            *_COMMON,
        )
    ),
    "hr": ResourceSpace(
        (("app:hris/employees/{n}", READ_WRITE), *_COMMON),
    ),
    "data-analyst": ResourceSpace(
        (
            ("clickhouse://analytics/reports/{n}", READS),
            ("app:notebooks/{n}", READ_WRITE),
            *_COMMON,
        )
    ),
}

SENSITIVE = ResourceSpace(
    (
        ("s3://acme-hr/payroll/2026/payslip-{n}.pdf", ("read", "list")),
        ("secrets:vault/prod/db-{n}", ("read",)),
        ("app:hris/employees/{n}", ("read", "export")),
        ("s3://acme-finance/exports/ledger-{n}.csv", ("read", "list")),
        ("mail:inbox/{n}", ("read", "forward")),
    )
)
"""What intruders go after; outside every agent's grants."""

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
PHONES = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36",
)
SCRIPTS = (
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "curl/8.5.0",
    "okhttp/4.12.0",
)
AGENT_CLIENTS = {
    "document_processor": "acme-docproc/3.4.1 (python 3.12; boto3 1.35)",
    "poller": "acme-poller/1.9.0 (go1.23)",
    "etl": "airflow-worker/2.10.3 (python 3.11)",
    "orchestrator": "acme-orchestrator/0.14.2 (langgraph 0.2)",
    "worker": "acme-orchestrator-worker/0.14.2 (python 3.12)",
    "connector": "acme-connector/5.2.0 (java 21)",
    "assistant": "acme-assistant/2.1.0 (token-exchange)",
}
