"""The ledger's exception tree.

LedgerError
 +-- ConfigurationError      settings or policy that cannot be used
 +-- ToolMissingError        a program the ledger needs (java, mvn) is not installed
 +-- BrokerError             the Kafka broker cannot be started, reached or stopped
 +-- EventRejected           an event failed validation (carries the reason)
"""


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class ConfigurationError(LedgerError):
    """Settings or a policy file that cannot be used as given."""


class ToolMissingError(LedgerError):
    """A program the ledger shells out to is not installed or not on PATH."""

    def __init__(self, tool: str, install_hint: str) -> None:
        self.tool = tool
        self.install_hint = install_hint
        super().__init__(f"'{tool}' was not found on PATH: {install_hint}")


class BrokerError(LedgerError):
    """The Kafka broker could not be started, reached or stopped."""


class EventRejected(LedgerError):
    """An event failed validation; `reason` says why in one line."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        self.reason = reason
        self.event_id = event_id
        prefix = f"event {event_id} rejected" if event_id else "event rejected"
        super().__init__(f"{prefix}: {reason}")
