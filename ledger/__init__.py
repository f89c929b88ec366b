"""Event-sourced ledger of authentication sessions for humans, agents and hybrids."""

__version__ = "0.1.0"
