"""Windows Security logon events: 4624, 4625, 4634, 4647, 4648 and 4672.

Read from `.evtx` files (through the `evtx` parser), from JSON in the shapes
`evtx_dump`/python-evtx (`Event.System`, `Event.EventData`), Winlogbeat
(`winlog.event_id`, `winlog.event_data`) and NXLog (flat `EventID` and fields)
write, and from events rendered as text by Splunk's `WinEventLog` input.

- 4624 logon → `session.started`;
- 4625 failed logon → `authentication.failed` (reason from `Status`, `SubStatus`);
- 4634 logoff, 4647 user-initiated logoff → `session.ended`;
- 4648 logon with explicit credentials → `access.recorded` on the subject's
  session: operation `explicit_credentials`, resource `host:<target server>`, the
  account whose credentials were used in the label `windows.target_account`;
- 4672 special privileges assigned → `access.recorded` on the new logon's
  session: operation `special_privileges`, resource = the privileges.

Other event ids are skipped.

Session: `win:<computer>:<logon id>` (`TargetLogonId`, or `SubjectLogonId` for
4648 and 4672). A failed logon has no logon id: its session is derived from the
account and the hour. So are the built-in identities' fixed logon ids (SYSTEM
0x3e7, NETWORK SERVICE 0x3e4, LOCAL SERVICE 0x3e5), which every boot reuses and
no logoff ends, with the logon id appended.

Accounts become `name@DOMAIN`, spaces as `_` (`SYSTEM@NT_AUTHORITY`). Category:
machine accounts (`HOST$`), the built-in service identities (SYSTEM, LOCAL
SERVICE, NETWORK SERVICE, ANONYMOUS LOGON, `DWM-*`, `UMFD-*`, the `NT SERVICE`
and `Window Manager` domains) and service or batch logons (types 4 and 5) are
agents; anonymous logons count as agents on thin evidence (null sessions are
mostly made by programs). Everyone else is a user.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ledger.logs.identity import account, derived_session_id, identifier, prefixed
from ledger.logs.mapping import (
    IngestOptions,
    LogFormat,
    Mapper,
    RecordContext,
    Subject,
    dig,
    principal,
    text,
)
from ledger.logs.origin import source
from ledger.logs.records import RecordBody, RecordRejected
from ledger.logs.timestamps import timestamp
from schemas import (
    AccessRecorded,
    AuthenticationFailed,
    EndReason,
    Event,
    FailureReason,
    PrincipalKind,
    SessionCategory,
    SessionEnded,
    SessionStarted,
)

LOGON, FAILED, LOGOFF, USER_LOGOFF, EXPLICIT, PRIVILEGED = (
    4624,
    4625,
    4634,
    4647,
    4648,
    4672,
)
MAPPED = {LOGON, FAILED, LOGOFF, USER_LOGOFF, EXPLICIT, PRIVILEGED}

SERVICE_NAMES = frozenset(
    {"SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "ANONYMOUS LOGON"}
)
SERVICE_DOMAINS = frozenset(
    {"NT SERVICE", "WINDOW MANAGER", "FONT DRIVER HOST", "IIS APPPOOL"}
)
SERVICE_LOGON_TYPES = frozenset({4, 5})
"""Batch and service logons."""

# NTSTATUS codes of 4625 (and Kerberos/NTLM failures) → why the logon failed.
_FAILURES = {
    0xC0000064: FailureReason.UNKNOWN_PRINCIPAL,
    0xC000006A: FailureReason.BAD_CREDENTIALS,
    0xC000006D: FailureReason.BAD_CREDENTIALS,
    0xC000006E: FailureReason.POLICY_DENIED,
    0xC000006F: FailureReason.POLICY_DENIED,
    0xC0000070: FailureReason.POLICY_DENIED,
    0xC0000071: FailureReason.EXPIRED_CREDENTIAL,
    0xC0000072: FailureReason.POLICY_DENIED,
    0xC0000193: FailureReason.EXPIRED_CREDENTIAL,
    0xC0000224: FailureReason.EXPIRED_CREDENTIAL,
    0xC0000234: FailureReason.LOCKED_OUT,
    0xC000015B: FailureReason.POLICY_DENIED,
    0xC0000413: FailureReason.POLICY_DENIED,
}

# Splunk's rendered text → EventData names, per section of the message.
_RENDERED_FIELDS = {
    ("Subject", "Security ID"): "SubjectUserSid",
    ("Subject", "Account Name"): "SubjectUserName",
    ("Subject", "Account Domain"): "SubjectDomainName",
    ("Subject", "Logon ID"): "SubjectLogonId",
    ("Logon Information", "Logon Type"): "LogonType",
    ("", "Logon Type"): "LogonType",
    ("New Logon", "Security ID"): "TargetUserSid",
    ("New Logon", "Account Name"): "TargetUserName",
    ("New Logon", "Account Domain"): "TargetDomainName",
    ("New Logon", "Logon ID"): "TargetLogonId",
    ("Account For Which Logon Failed", "Account Name"): "TargetUserName",
    ("Account For Which Logon Failed", "Account Domain"): "TargetDomainName",
    ("Account Whose Credentials Were Used", "Account Name"): "TargetUserName",
    ("Account Whose Credentials Were Used", "Account Domain"): "TargetDomainName",
    ("Target Server", "Target Server Name"): "TargetServerName",
    ("Failure Information", "Status"): "Status",
    ("Failure Information", "Sub Status"): "SubStatus",
    ("Failure Information", "Failure Reason"): "FailureReason",
    ("Network Information", "Workstation Name"): "WorkstationName",
    ("Network Information", "Source Network Address"): "IpAddress",
    ("Network Information", "Network Address"): "IpAddress",
    ("Detailed Authentication Information", "Authentication Package"): (
        "AuthenticationPackageName"
    ),
}
# In a rendered 4634 or 4647 the account logged off sits under "Subject".
_SUBJECT_IS_TARGET = {LOGOFF, USER_LOGOFF}
_RENDERED_LINE = re.compile(r"^(?P<indent>\t*)(?P<label>[^\t:][^:]*):\s*(?P<value>.*)$")


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a Windows event in any shape this module reads."""
    if isinstance(body, str):
        return "\nLogName=" in body and "EventCode=" in body
    return (
        dig(body, "Event", "System", "EventID") is not None
        or dig(body, "winlog", "event_id") is not None
        or ("EventID" in body and ("Hostname" in body or "Computer" in body))
    )


def category_of(
    name: str, domain: str = "", logon_type: int | None = None
) -> SessionCategory:
    """Agent for machine and service accounts and service logons; else user."""
    upper = name.upper()
    if upper.endswith("$") or upper in SERVICE_NAMES:
        return SessionCategory.AGENT
    if upper.startswith(("DWM-", "UMFD-")) or domain.upper() in SERVICE_DOMAINS:
        return SessionCategory.AGENT
    if logon_type in SERVICE_LOGON_TYPES:
        return SessionCategory.AGENT
    return SessionCategory.USER


def failure_reason(status: object, sub_status: object = None) -> FailureReason:
    """Why a logon failed, from its NTSTATUS codes (sub-status first)."""
    for value in (sub_status, status):
        code = _hex(value)
        if code in _FAILURES:
            return _FAILURES[code]
    return FailureReason.OTHER


def normalised(body: RecordBody, options: IngestOptions) -> dict[str, Any]:
    """`event_id`, `computer`, `record_id`, `time` and `data` of any shape."""
    if isinstance(body, str):
        return _rendered(body, options)
    if dig(body, "Event", "System") is not None:
        system = body["Event"]["System"]
        event_id = system.get("EventID")
        if isinstance(event_id, dict):
            event_id = event_id.get("#text") or event_id.get("Value")
        return {
            "event_id": event_id,
            "computer": system.get("Computer"),
            "record_id": system.get("EventRecordID"),
            "time": dig(system, "TimeCreated", "#attributes", "SystemTime")
            or dig(system, "TimeCreated", "@SystemTime")
            or dig(system, "TimeCreated", "SystemTime"),
            "data": _event_data(dig(body, "Event", "EventData")),
        }
    if isinstance(body.get("winlog"), dict):
        winlog = body["winlog"]
        return {
            "event_id": winlog.get("event_id"),
            "computer": winlog.get("computer_name"),
            "record_id": winlog.get("record_id"),
            "time": body.get("@timestamp"),
            "data": winlog.get("event_data") or {},
        }
    return {
        "event_id": body.get("EventID"),
        "computer": body.get("Hostname") or body.get("Computer"),
        "record_id": body.get("RecordNumber"),
        "time": body.get("EventTime") or body.get("TimeCreated"),
        "data": body,
    }


class _Mapper:
    def __init__(self, options: IngestOptions) -> None:
        self.options = options

    def __call__(self, context: RecordContext) -> Sequence[Event]:
        if not recognises(context.body):
            raise RecordRejected("not a Windows event")
        event = normalised(context.body, self.options)
        try:
            event_id = int(str(event["event_id"]))
        except ValueError as error:
            raise RecordRejected(
                f"EventID {event['event_id']!r} is not a number"
            ) from error
        if event_id not in MAPPED:
            return []
        data = event["data"]
        computer = identifier(event["computer"], "Computer")
        occurred_at = timestamp(event["time"], "TimeCreated", self.options.timezone)
        record_id = f"{computer}:{event['record_id']}" if event["record_id"] else None

        if event_id == LOGON:
            subject = _subject(data, "Target", computer, occurred_at)
            package = text(data.get("AuthenticationPackageName"))
            return [
                context.event(
                    SessionStarted,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    auth_method=identifier(package.lower(), "AuthenticationPackageName")
                    if package and package != "-"
                    else None,
                )
            ]
        if event_id == FAILED:
            subject = _subject(data, "Target", computer, occurred_at)
            detail = text(data.get("FailureReason"))
            return [
                context.event(
                    AuthenticationFailed,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    reason=failure_reason(data.get("Status"), data.get("SubStatus")),
                    detail=detail,
                )
            ]
        if event_id in (LOGOFF, USER_LOGOFF):
            subject = _subject(data, "Target", computer, occurred_at)
            return [
                context.event(
                    SessionEnded,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    reason=EndReason.LOGOUT,
                )
            ]
        if event_id == EXPLICIT:
            subject = _subject(data, "Subject", computer, occurred_at)
            used = account(
                data.get("TargetUserName"), data.get("TargetDomainName"), "target"
            )
            server = text(data.get("TargetServerName")) or computer
            return [
                context.event(
                    AccessRecorded,
                    _with_label(subject, "windows.target_account", used),
                    occurred_at,
                    record_id=record_id,
                    resource=f"host:{server}"[:1024],
                    operation="explicit_credentials",
                )
            ]
        subject = _subject(data, "Subject", computer, occurred_at)
        privileges = " ".join(str(data.get("PrivilegeList") or "").split())
        return [
            context.event(
                AccessRecorded,
                subject,
                occurred_at,
                record_id=record_id,
                resource=(privileges or "privileges")[:1024],
                operation="special_privileges",
            )
        ]


# SYSTEM (0x3e7), NETWORK SERVICE (0x3e4) and LOCAL SERVICE (0x3e5): fixed logon
# ids that live from boot to shutdown.
BOOT_LONG_LOGON_IDS = frozenset({"0x3e7", "0x3e4", "0x3e5"})


def _subject(
    data: dict[str, Any], role: str, computer: str, occurred_at: datetime
) -> Subject:
    name = text(data.get(f"{role}UserName")) or ""
    domain = text(data.get(f"{role}DomainName")) or ""
    logon_type = _int(data.get("LogonType"))
    who = account(name, domain, f"{role}UserName")
    category = category_of(name, domain, logon_type)
    logon_id = text(data.get(f"{role}LogonId"))
    if logon_id and logon_id.lower() in BOOT_LONG_LOGON_IDS:
        # Every boot reuses these and never logs them off: one session per hour of
        # activity, rather than one "session" running for as long as the log does.
        hourly = derived_session_id(f"win:{computer}", who, occurred_at)
        session = f"{hourly}:{logon_id.lower()}"
    elif logon_id and logon_id not in ("-", "0x0"):
        session = prefixed("win", f"{computer}:{logon_id.lower()}", "logon id")
    else:
        session = derived_session_id(f"win:{computer}", who, occurred_at)
    labels = {}
    if logon_type is not None:
        labels["windows.logon_type"] = str(logon_type)
    return Subject(
        session_id=session,
        category=category,
        principal=principal(
            who,
            _kind(name, category),
            display_name=f"{domain}\\{name}" if domain and domain != "-" else name,
        ),
        source=source(ip=data.get("IpAddress"), device_id=data.get("WorkstationName")),
        labels=labels,
    )


def _with_label(subject: Subject, key: str, value: str) -> Subject:
    return replace(subject, labels={**subject.labels, key: value})


def _kind(name: str, category: SessionCategory) -> PrincipalKind:
    if name.endswith("$"):
        return PrincipalKind.WORKLOAD
    if category is SessionCategory.AGENT:
        return PrincipalKind.SERVICE_ACCOUNT
    return PrincipalKind.HUMAN


def _event_data(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    items = value.get("Data")
    if isinstance(items, list):
        # xmltodict's shape: {"Data": [{"@Name": "X", "#text": "v"}, ...]}.
        return {
            item.get("@Name") or item.get("Name"): item.get("#text")
            for item in items
            if isinstance(item, dict)
        }
    return value


def _rendered(block: str, options: IngestOptions) -> dict[str, Any]:
    lines = block.replace("\r\n", "\n").split("\n")
    header: dict[str, str] = {}
    data: dict[str, Any] = {}
    section = ""
    in_message = False
    privileges: list[str] = []
    for raw in lines[1:]:
        if not in_message:
            key, _, value = raw.partition("=")
            header[key.strip()] = value.strip()
            in_message = key.strip() == "Message"
            continue
        if not raw.strip():
            continue
        match = _RENDERED_LINE.match(raw)
        if match is None:
            if section == "Privileges" and raw.startswith("\t"):
                privileges.append(raw.strip())
            continue
        label, value = match["label"].strip(), match["value"].strip()
        if not match["indent"]:
            # A section heading ("New Logon:"), or a field of its own ("Logon
            # Type: 3" in a 4625, "Privileges: SeTcbPrivilege" in a 4672).
            section = label
            if value and label == "Privileges":
                privileges.append(value)
            elif value and ("", label) in _RENDERED_FIELDS:
                data.setdefault(_RENDERED_FIELDS[("", label)], value)
            continue
        name = _RENDERED_FIELDS.get((section, label))
        if name is not None and name not in data:
            data[name] = value
    if privileges:
        data["PrivilegeList"] = "\n".join(privileges)
    event_id = header.get("EventCode")
    if event_id and int(event_id) in _SUBJECT_IS_TARGET:
        for part in ("UserSid", "UserName", "DomainName", "LogonId"):
            if f"Subject{part}" in data:
                data[f"Target{part}"] = data.pop(f"Subject{part}")
    return {
        "event_id": event_id,
        "computer": header.get("ComputerName"),
        "record_id": header.get("RecordNumber"),
        "time": timestamp(lines[0].strip(), "time", options.timezone).isoformat(),
        "data": data,
    }


def _hex(value: object) -> int | None:
    try:
        return int(str(value), 16) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _make(options: IngestOptions) -> Mapper:
    return _Mapper(options)


FORMAT = LogFormat(
    name="windows",
    title="Windows Security logon events (EVTX, JSON, Splunk-rendered text)",
    recognises=recognises,
    mapper=_make,
)
