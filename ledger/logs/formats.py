"""The registry of log formats the ingest command reads.

`auto` is not a format but a choice: each record goes to the first format, in
the order below, that recognises it, and a record that none recognises is
rejected as "unsupported format". The order matters where shapes overlap: OCSF
events may embed another source's fields, and GKE entries are Cloud Audit Logs
entries that the Kubernetes format also reads.
"""

from __future__ import annotations

from ledger.logs import (
    auth0,
    cloudtrail,
    entra,
    gcp,
    github,
    google_workspace,
    kubernetes,
    ocsf,
    okta,
    onelogin,
    sshd,
    windows,
)
from ledger.logs.mapping import LogFormat

AUTO = "auto"
UNSUPPORTED = "unsupported format"

FORMATS: dict[str, LogFormat] = {
    log_format.name: log_format
    for log_format in (
        ocsf.FORMAT,
        entra.FORMAT,
        okta.FORMAT,
        cloudtrail.FORMAT,
        kubernetes.FORMAT,
        gcp.FORMAT,
        windows.FORMAT,
        google_workspace.FORMAT,
        onelogin.FORMAT,
        auth0.FORMAT,
        github.FORMAT,
        sshd.FORMAT,
    )
}
"""Every format by name, in the order `auto` tries them."""
