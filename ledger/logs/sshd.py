"""sshd and PAM lines of syslog files (`auth.log`, `/var/log/secure`, `messages`).

Also reads loghub's pre-parsed CSV of sshd logs (columns `Date, Day, Time,
Component, Pid, Content`), whose lines it rebuilds as `MMM DD HH:MM:SS host
sshd[pid]: content`.

Syslog lines carry no year: the first line gets `--year` (2024 by default, a leap
year), and a line whose month is earlier than the previous line's starts the next
year. Times are read in `--timezone` (UTC by default).

- sshd `Accepted <method> for <user> from <ip>` → `session.started`;
- sshd `Failed <method> for [invalid user] <user> from <ip>` →
  `authentication.failed`, and N of them for `message repeated N times: [...]`;
- PAM `session opened for user <user>` under its own tag (`su(pam_unix)[pid]`)
  → `session.started`; PAM `session closed for user <user>` → `session.ended`;
- PAM `authentication failure; ... user=<user>` under its own tag →
  `authentication.failed`.

PAM lines written inside sshd's own tag (`sshd[pid]: pam_unix(sshd:auth): ...`)
repeat what sshd logs itself, so only their `session closed` is kept. A PAM
authentication failure without `user=` (PAM names no unknown user) is rejected: it
has no principal. Lines of other programs (kernel, ftpd, klogind...) are skipped.

Session: `sshd:<host>:<pid>`; sshd and its PAM module log under the same pid.
Process ids are reused, so two logins far apart in one long log can share a
session id.

Category: service accounts (a fixed list of common system users such as `news`,
`mysql`, `git`) and `su` sessions opened by root for another account are agents;
every other account, root included, is a user: a person at a shell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.logs.identity import identifier, prefixed
from ledger.logs.mapping import (
    IngestOptions,
    LogFormat,
    Mapper,
    RecordContext,
    Subject,
    principal,
)
from ledger.logs.origin import ip_address, source
from ledger.logs.records import RecordBody, RecordRejected
from schemas import (
    AuthenticationFailed,
    EndReason,
    Event,
    FailureReason,
    PrincipalKind,
    SessionCategory,
    SessionEnded,
    SessionStarted,
)

SYSTEM_ACCOUNTS = frozenset(
    {
        *("adm", "apache", "avahi", "backup", "bin", "cyrus", "daemon", "dbus"),
        *("deploy", "dovecot", "elasticsearch", "ftp", "games", "git", "gnats"),
        *("gopher", "haldaemon", "halt", "irc", "jenkins", "list", "lp", "mail"),
        *("mailnull", "messagebus", "mysql", "named", "news", "nfsnobody"),
        *("nobody", "nscd", "ntp", "operator", "oracle", "pcap", "postfix"),
        *("postgres", "redis", "rpc", "rpcuser", "shutdown", "smmsp", "squid"),
        *("sshd", "sync", "syslog", "tomcat", "uucp", "vcsa", "webalizer"),
        *("www-data", "xfs", "zabbix"),
    }
)
"""Accounts that programs, not people, log in as."""

_MONTHS = {
    "Jan": 1,
    "Feb": 2,
    "Mar": 3,
    "Apr": 4,
    "May": 5,
    "Jun": 6,
    "Jul": 7,
    "Aug": 8,
    "Sep": 9,
    "Oct": 10,
    "Nov": 11,
    "Dec": 12,
}
"""Month abbreviations as syslog writes them (C locale) to month numbers."""
_SYSLOG = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d{2}:\d{2}:\d{2}) "
    r"(?P<host>\S+) (?P<tag>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?:\s?(?P<message>.*)$"
)
_SYSLOG_HEADER = re.compile(r"^[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \S+ ")
_PAM_TAG = re.compile(r"^(?P<service>[\w.-]+)\(pam_\w+\)$")
_PAM_INSIDE = re.compile(r"^pam_\w+\((?P<service>[\w.-]+):(?P<facility>\w+)\): ")
_ACCEPTED = re.compile(
    r"^Accepted (?P<method>\S+) for (?P<user>\S+) from (?P<ip>\S+) port \d+"
)
_FAILED = re.compile(
    r"^Failed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.+?) "
    r"from (?P<ip>\S+) port \d+"
)
_REPEATED = re.compile(
    r"^message repeated (?P<times>\d+) times: \[ ?(?P<message>.*)\]$"
)
_SESSION = re.compile(
    r"session (?P<what>opened|closed) for user (?P<user>\S+)(?: by (?P<by>.*))?$"
)
_PAM_FAILURE = re.compile(r"authentication failure;")
_PAM_FIELD = re.compile(r"(?P<key>\w+)=(?P<value>\S*)")
_ROOT_CALLER = re.compile(r"\(uid=0\)")
_STRUCTURED_COLUMNS = {"Date", "Day", "Time", "Component", "Pid", "Content"}


@dataclass(frozen=True, slots=True)
class SyslogLine:
    """A syslog line split into its parts; the time still lacks a year."""

    month: int
    day: int
    time: str
    host: str
    tag: str
    pid: str | None
    message: str


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a syslog line or a loghub sshd CSV row."""
    if isinstance(body, dict):
        return body.keys() >= _STRUCTURED_COLUMNS
    return bool(_SYSLOG_HEADER.match(body))


def category_of(
    account: str, service: str = "sshd", caller: str = ""
) -> SessionCategory:
    """Agent for service accounts and root's `su` to another account; else user."""
    if account in SYSTEM_ACCOUNTS:
        return SessionCategory.AGENT
    if service in ("su", "runuser", "cron", "crond") and _ROOT_CALLER.search(caller):
        return SessionCategory.AGENT if account != "root" else SessionCategory.USER
    return SessionCategory.USER


def parse_line(line: str) -> SyslogLine | None:
    """The parts of a syslog line, or None when it is not one."""
    match = _SYSLOG.match(line)
    if match is None or match["month"] not in _MONTHS:
        return None
    return SyslogLine(
        month=_MONTHS[match["month"]],
        day=int(match["day"]),
        time=match["time"],
        host=match["host"],
        tag=match["tag"],
        pid=match["pid"],
        message=match["message"].rstrip(),
    )


def structured_line(row: dict[str, Any]) -> str:
    """The syslog line a loghub sshd CSV row was parsed from."""
    day = str(row.get("Day", "")).strip()
    day = f"{int(day):2d}" if day.isdigit() else day
    return (
        f"{row.get('Date')} {day} {row.get('Time')} {row.get('Component')} "
        f"sshd[{row.get('Pid')}]: {row.get('Content')}"
    )


class _Mapper:
    """Maps the lines of one file, carrying the year from line to line."""

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self.year = options.year
        self.month: int | None = None

    def __call__(self, context: RecordContext) -> Sequence[Event]:
        body = context.body
        if not recognises(body):
            raise RecordRejected("not a syslog line")
        text = structured_line(body) if isinstance(body, dict) else body
        line = parse_line(text)
        if line is None:
            # A syslog header without a `tag[pid]:` part (e.g. "syslogd 1.4.1:").
            return []
        occurred_at = self._time(line)
        pam = _PAM_TAG.match(line.tag)
        if line.tag == "sshd":
            return self._sshd(context, line, occurred_at)
        if pam is not None:
            return self._pam(context, line, occurred_at, pam["service"])
        return []

    def _time(self, line: SyslogLine) -> datetime:
        if self.month is not None and line.month < self.month:
            self.year += 1
        self.month = line.month
        hour, minute, second = (int(part) for part in line.time.split(":"))
        try:
            return datetime(
                self.year,
                line.month,
                line.day,
                hour,
                minute,
                second,
                tzinfo=self.options.timezone,
            )
        except ValueError as error:
            raise RecordRejected(
                f"{line.month}/{line.day} {line.time} is not a time in {self.year}"
            ) from error

    def _sshd(
        self, context: RecordContext, line: SyslogLine, at: datetime
    ) -> Sequence[Event]:
        message = line.message
        inside = _PAM_INSIDE.match(message)
        if inside is not None:
            # sshd logs its own accepts and failures; keep only PAM's session end.
            session = _SESSION.search(message[inside.end() :])
            if session is not None and session["what"] == "closed":
                subject = _subject(line, session["user"], "sshd", "", None)
                return [
                    context.event(SessionEnded, subject, at, reason=EndReason.LOGOUT)
                ]
            return []
        if (accepted := _ACCEPTED.match(message)) is not None:
            subject = _subject(line, accepted["user"], "sshd", "", accepted["ip"])
            return [
                context.event(
                    SessionStarted,
                    subject,
                    at,
                    auth_method=_method(accepted["method"]),
                )
            ]
        times = 1
        if (repeated := _REPEATED.match(message)) is not None:
            times, message = int(repeated["times"]), repeated["message"]
        if (failed := _FAILED.match(message)) is not None:
            subject = _subject(line, failed["user"], "sshd", "", failed["ip"])
            reason = (
                FailureReason.UNKNOWN_PRINCIPAL
                if failed["invalid"] or failed["method"] == "none"
                else FailureReason.BAD_CREDENTIALS
            )
            return [
                context.event(
                    AuthenticationFailed,
                    subject,
                    at,
                    reason=reason,
                    detail=f"Failed {failed['method']}",
                )
                for _ in range(times)
            ]
        return []

    def _pam(
        self, context: RecordContext, line: SyslogLine, at: datetime, service: str
    ) -> Sequence[Event]:
        message = line.message
        if (session := _SESSION.search(message)) is not None:
            subject = _subject(
                line, session["user"], service, session["by"] or "", None
            )
            if session["what"] == "opened":
                return [context.event(SessionStarted, subject, at, auth_method=service)]
            return [context.event(SessionEnded, subject, at, reason=EndReason.LOGOUT)]
        if _PAM_FAILURE.search(message):
            fields = {m["key"]: m["value"] for m in _PAM_FIELD.finditer(message)}
            user = fields.get("user")
            if not user:
                raise RecordRejected(
                    f"{service} authentication failure names no user (PAM leaves "
                    "out accounts that do not exist), so it has no principal"
                )
            subject = _subject(line, user, service, "", fields.get("rhost"))
            return [
                context.event(
                    AuthenticationFailed,
                    subject,
                    at,
                    reason=FailureReason.BAD_CREDENTIALS,
                    detail=f"{service} authentication failure",
                )
            ]
        return []


def _subject(
    line: SyslogLine, user: str, service: str, caller: str, remote: str | None
) -> Subject:
    if line.pid is None:
        raise RecordRejected(f"{line.tag} line has no [pid], so no session")
    account = identifier(user, "user")
    category = category_of(account, service, caller)
    labels = {}
    if remote and ip_address(remote) is None:
        labels["syslog.rhost"] = remote[:256]
    return Subject(
        session_id=prefixed("sshd", f"{line.host}:{line.pid}", "host and pid"),
        category=category,
        principal=principal(
            account,
            PrincipalKind.SERVICE_ACCOUNT
            if category is SessionCategory.AGENT
            else PrincipalKind.HUMAN,
        ),
        source=source(ip=remote),
        labels=labels,
    )


def _method(method: str) -> str | None:
    try:
        return identifier(method, "method")
    except RecordRejected:
        return None


def _make(options: IngestOptions) -> Mapper:
    return _Mapper(options)


FORMAT = LogFormat(
    name="sshd",
    title="sshd and PAM syslog lines (auth.log, secure, messages; loghub CSV)",
    recognises=recognises,
    mapper=_make,
)
