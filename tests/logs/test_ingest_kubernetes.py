"""Kubernetes audit events: service accounts, people, proxies and envelopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ingest_checks import only_event

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import (
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    SessionCategory,
)


def audit(username: str, code: int = 200, **fields: object) -> dict:
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a-1",
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/prod/secrets/db",
        "verb": "get",
        "user": {"username": username, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.9"],
        "responseStatus": {"code": code},
        "stageTimestamp": "2024-05-02T10:00:00.5Z",
        **fields,
    }


def test_kubernetes_service_account_is_agent(map_records) -> None:
    event = only_event(
        map_records("kubernetes", [audit("system:serviceaccount:prod:backup")])
    )

    assert isinstance(event, AccessRecorded)
    assert event.category is SessionCategory.AGENT
    assert event.principal.id == "system:serviceaccount:prod:backup"
    assert (event.resource, event.operation) == (
        "/api/v1/namespaces/prod/secrets/db",
        "get",
    )


def test_kubernetes_person_is_user_and_403_is_denied(map_records) -> None:
    event = only_event(map_records("kubernetes", [audit("alice@example.com", 403)]))

    assert event.category is SessionCategory.USER
    assert isinstance(event, AccessRecorded)
    assert event.outcome is AccessOutcome.DENIED


def test_kubernetes_credential_id_is_the_session(map_records) -> None:
    record = audit("system:serviceaccount:prod:backup")
    record["user"]["extra"] = {
        "authentication.kubernetes.io/credential-id": ["JTI=4f1c-77"]
    }

    event = only_event(map_records("kubernetes", [record]))

    assert event.session_id == "k8s:JTI=4f1c-77"


def test_kubernetes_proxy_impersonating_person_is_hybrid(map_records) -> None:
    record = audit(
        "system:serviceaccount:auth:oidc-proxy",
        impersonatedUser={"username": "alice@example.com"},
    )

    event = only_event(map_records("kubernetes", [record]))

    assert event.category is SessionCategory.HYBRID
    assert event.principal.id == "system:serviceaccount:auth:oidc-proxy"
    assert event.delegation is not None
    assert event.delegation.subject == "alice@example.com"


def test_kubernetes_401_is_authentication_failure(map_records) -> None:
    event = only_event(map_records("kubernetes", [audit("system:anonymous", 401)]))

    assert isinstance(event, AuthenticationFailed)
    assert event.labels["k8s.anonymous"] == "true"


def test_kubernetes_request_received_stage_is_skipped(map_records) -> None:
    [outcome] = map_records("kubernetes", [audit("bob", stage="RequestReceived")])

    assert outcome.skipped


def test_kubernetes_aks_log_as_json_text_is_unwrapped(map_records) -> None:
    wrapper = {
        "category": "kube-audit",
        "properties": {"log": json.dumps(audit("aksService"))},
    }

    event = only_event(map_records("kubernetes", [wrapper]))

    assert event.category is SessionCategory.AGENT
    assert event.principal.id == "aksService"


def test_kubernetes_real_samples_checked_by_hand(realdata: Path) -> None:
    options = IngestOptions()
    elastic = [
        event
        for outcome in ingest_file(
            realdata / "elastic-integrations-k8s" / "test-audit.log",
            "kubernetes",
            options,
        )
        for event in outcome.events
    ]
    lease = elastic[1]
    assert lease.principal.id == "system:serviceaccount:kube-system:elastic-agent"
    assert lease.category is SessionCategory.AGENT
    assert lease.occurred_at == datetime(2025, 7, 16, 10, 12, 56, 563177, UTC)
    # No credential id in the sample: the session is the principal's hour.
    assert lease.session_id.startswith("k8s:")
    assert lease.session_id.endswith(":20250716T10")
    assert elastic[3].principal.id == "system:gke-master-healthcheck"
    assert elastic[4].principal.id == "aksService"

    [exec_pod] = [
        event
        for outcome in ingest_file(
            realdata / "falco-k8s-audit" / "exec_pod.json", "kubernetes", options
        )
        for event in outcome.events
    ]
    assert isinstance(exec_pod, AccessRecorded)
    assert exec_pod.principal.id == "minikube-user"
    assert exec_pod.category is SessionCategory.USER
    assert "/exec?command=bash" in exec_pod.resource
