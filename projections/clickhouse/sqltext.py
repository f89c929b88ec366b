"""A small lexer for ClickHouse SQL text: enough to split and to inspect statements.

It knows string literals ('...'), quoted identifiers ("..." and `...`) with
backslash escapes and doubled quotes, `--` line comments and `/* */` block
comments. Where it is unsure it errs towards showing more: `#` is a symbol, not a
comment, and block comments do not nest, so text that ClickHouse would skip as a
comment may be inspected, but text that ClickHouse runs is never hidden.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """What a token is."""

    WORD = "word"
    NUMBER = "number"
    STRING = "string"
    QUOTED = "quoted identifier"
    COMMENT = "comment"
    SPACE = "space"
    SYMBOL = "symbol"


@dataclass(frozen=True, slots=True)
class Token:
    """One token and where it starts in the text."""

    kind: Kind
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper()


class UnterminatedText(ValueError):
    """A string, quoted identifier or comment that never closes."""


_QUOTES = {"'": Kind.STRING, '"': Kind.QUOTED, "`": Kind.QUOTED}


def tokens(sql: str) -> Iterator[Token]:
    """The tokens of `sql`, spaces and comments included."""
    position, end = 0, len(sql)
    while position < end:
        char = sql[position]
        if char.isspace():
            stop = position + 1
            while stop < end and sql[stop].isspace():
                stop += 1
            yield Token(Kind.SPACE, sql[position:stop], position)
        elif char in _QUOTES:
            stop = _closing_quote(sql, position)
            yield Token(_QUOTES[char], sql[position:stop], position)
        elif sql.startswith("--", position):
            newline = sql.find("\n", position)
            stop = end if newline < 0 else newline
            yield Token(Kind.COMMENT, sql[position:stop], position)
        elif sql.startswith("/*", position):
            close = sql.find("*/", position + 2)
            if close < 0:
                raise UnterminatedText(f"comment opened at character {position}")
            stop = close + 2
            yield Token(Kind.COMMENT, sql[position:stop], position)
        elif char.isalpha() or char == "_":
            stop = position + 1
            while stop < end and (sql[stop].isalnum() or sql[stop] in "_$"):
                stop += 1
            yield Token(Kind.WORD, sql[position:stop], position)
        elif char.isdigit():
            stop = position + 1
            while stop < end and (sql[stop].isalnum() or sql[stop] in "._"):
                stop += 1
            yield Token(Kind.NUMBER, sql[position:stop], position)
        else:
            stop = position + 1
            yield Token(Kind.SYMBOL, char, position)
        position = stop


def _closing_quote(sql: str, start: int) -> int:
    quote = sql[start]
    position = start + 1
    while position < len(sql):
        char = sql[position]
        if char == "\\":
            position += 2
            continue
        if char == quote:
            # A doubled quote stands for one quote inside the text.
            if position + 1 < len(sql) and sql[position + 1] == quote:
                position += 2
                continue
            return position + 1
        position += 1
    kind = "string" if quote == "'" else "quoted identifier"
    raise UnterminatedText(f"{kind} opened at character {start} never closes")


def significant(sql: str) -> list[Token]:
    """The tokens of `sql` without spaces and comments."""
    return [t for t in tokens(sql) if t.kind not in (Kind.SPACE, Kind.COMMENT)]


def split_statements(sql: str) -> list[str]:
    """The statements of a script, split at semicolons outside strings and comments."""
    statements: list[str] = []
    start = 0
    for token in tokens(sql):
        if token.kind is Kind.SYMBOL and token.text == ";":
            statements.append(sql[start : token.start])
            start = token.start + 1
    statements.append(sql[start:])
    return [text.strip() for text in statements if significant(text)]
