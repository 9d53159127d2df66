"""Secrets: a type for config values that may hold a credential, and the one redaction
everything a run writes or prints goes through.

- `Secret` holds a value such as a database URL: the code gets the real value only by
  asking for it (`reveal()`), while str(), repr(), format() and every serialization show
  it redacted. Making one registers the credentials it holds as known literals.
- `redact(text)` hides credentials by their shape (a URL's password, password-like keys
  of query strings, connection strings, Python and JSON text, ODBC's PWD, an HTTP
  Authorization header), and any known literal wherever it appears, in whatever shape
  a driver echoes it.
- `guard_outputs()` sends what is printed, log records and warnings through `redact`.
- `written_password(text)` finds a URL's password written out (not an ${env:NAME}
  reference): the one test the commit hook and `train`'s warning apply to configs.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

MASK = "***"
# What help texts and messages write where a value goes ("--set KEY=VALUE"): not secrets.
PLACEHOLDERS = frozenset({"VALUE", "...", "…", MASK})
# A config's reference to an environment variable, ${env:NAME} (config/environment.py):
# it names where the secret is, and is no secret itself.
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")

# Keys whose value is a credential. Long names may have a prefix (db_password,
# client_secret, AccountKey, x-amz-signature); short ones stand alone, since "sig" or
# "code" inside a longer word (design, encode) is no credential.
_KEY = (
    r"(?:[\w-]*(?:password|passwd|pwd|token|secret|key|signature|credentials?)"
    r"|pass|sig|sas|auth|authorization|code)"
)
# A key starts a word: "design=" holds no "sig=". A long key's prefix joins the word, so
# "monkey=" is masked too: hiding a harmless value is the safe mistake.
_START = r"(?<![A-Za-z0-9])"
# Each shape a credential takes in text, its value in the group "value", most specific
# first (a quoted value is masked before the unquoted shape could take its quote).
# A URL's user-info, scheme://user:password@host. A user name may hold "@" (Azure's
# user@server), and a password pasted unquoted may too: it runs to the token's last "@"
# (not past a quote: in JSON text, that would join two strings).
URL_PASSWORD = re.compile(
    r"\b[A-Za-z][\w+.-]*://[^\s/:'\"]*:(?P<value>[^\s'\"]*?)@(?=[^\s@'\"]*(?:$|[\s'\"/?]))"
)
_SHAPES = [
    URL_PASSWORD,
    # Python or JSON text: password='...', password="...", "password": "...", 'key': '...'.
    re.compile(
        _START + r"[\"']?" + _KEY + r"[\"']?\s*[:=]\s*(?P<q>[\"'])(?P<value>[^\"'\n]+)(?P=q)",
        re.IGNORECASE,
    ),
    # An HTTP header, Authorization: Bearer ..., or a bearer token alone.
    re.compile(
        _START + r"(?:(?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|token|digest)\s+)?"
        r"|bearer\s+)(?P<value>[^\s'\",;]+)",
        re.IGNORECASE,
    ),
    # A query string or connection string: ?sig=...&, PWD=...; (ODBC braces: PWD={a;b}).
    re.compile(
        _START + _KEY + r"\s*=\s*(?P<value>\{[^}]*\}|[^&;\s'\"{][^&;\s'\"]*)", re.IGNORECASE
    ),
    # The same, percent-encoded inside another URL: odbc_connect=...PWD%3D...%3B...
    re.compile(_START + _KEY + r"%3D(?P<value>.+?)(?=%3B|%26|&|[\s'\"]|$)", re.IGNORECASE),
]

# Literals shorter than this are not replaced wherever they appear: a password "test" or
# "data" would mask every mention of test mode or of the data folder, making the output
# useless. Shorter ones are still masked wherever they stand in a credential's shape
# above; 8 is also the least length common password policies accept.
MIN_LITERAL = 8
_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def _values(text: str) -> Iterator[str]:
    """The credential values in text, by shape, also in its percent-decoded form."""
    for form in {text, unquote_plus(text)}:
        for shape in _SHAPES:
            for found in shape.finditer(form):
                yield found["value"].strip("{}")


def remember(text: str) -> None:
    """Register the credentials a value holds (a URL's password, a connection string's PWD,
    a token in its query) as known literals, which `redact` replaces wherever they appear,
    as they are and percent-encoded."""
    global _known_pattern
    found = {value for value in _values(text) if len(value) >= MIN_LITERAL}
    found |= {encoded for value in found for encoded in (quote(value, safe=""), quote_plus(value))}
    with _lock:
        if found - _known:
            _known.update(found)
            ordered = sorted(_known, key=len, reverse=True)  # the longest form first
            _known_pattern = re.compile("|".join(map(re.escape, ordered)))


def _mask(found: re.Match[str]) -> str:
    """The match with its group "value" replaced by the mask."""
    value = found["value"]
    # A placeholder may end a sentence ("VALUE."); "..." is one whole, not a stripped "".
    placeholder = value in PLACEHOLDERS or value.rstrip(",.;:)]}") in PLACEHOLDERS
    if placeholder or ENV_REFERENCE.fullmatch(value):
        return found[0]
    start, end = found.span("value")
    offset = found.start()
    whole = found[0]
    return whole[: start - offset] + MASK + whole[end - offset :]


def redact(text: object) -> str:
    """The text with every credential hidden: those in a credential's shape (a URL's
    password, password=..., "token": "...", PWD=...;, Authorization: Bearer ...) and every
    known literal (see `remember`). The one redaction of everything a run writes or prints."""
    text = str(text)
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for shape in _SHAPES:
        text = shape.sub(_mask, text)
    return text


def written_password(text: str) -> re.Match[str] | None:
    """The first password a URL in text holds written out (its group "value"): not an
    ${env:NAME} reference, not empty, not a placeholder (***, VALUE). The one test of a
    password in a committed config, for the commit hook and `train`'s warning alike."""
    for found in URL_PASSWORD.finditer(text):
        value = found["value"]
        if value and value not in PLACEHOLDERS and not ENV_REFERENCE.fullmatch(value):
            return found
    return None


def with_reference(text: str, variable: str) -> str:
    """The text with each password written out in a URL replaced by ${env:variable}."""
    while (found := written_password(text)) is not None:
        start, end = found.span("value")
        text = f"{text[:start]}${{env:{variable}}}{text[end:]}"
    return text


def redacted(value: Any) -> Any:
    """Plain data (dicts, lists, text, numbers) with every text redacted, keys included;
    a Secret becomes its redacted text."""
    if isinstance(value, str | Secret):
        return redact(str(value))
    if isinstance(value, dict):
        return {redacted(key): redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redacted(item) for item in value)
    return value


class Secret:
    """A config value that may hold a credential: a source URL, a connection string, a
    tracking URI. `reveal()` gives the real value to the code that needs it (a database
    engine, fsspec, MLflow); str(), repr(), format() and serializations give it redacted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds text, not {type(value).__name__}")
        self._value = value
        remember(value)

    def reveal(self) -> str:
        """The real value, for the code that connects with it; never to print or write."""
        return self._value

    def __str__(self) -> str:
        return redact(self._value)

    def __repr__(self) -> str:
        return f"Secret({redact(self._value)!r})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # A worker process that unpickles the config learns its credentials too.
        return (Secret, (self._value,))


def _redacting_factory(make: Any) -> Any:
    """A log record factory that redacts each record's message and traceback as it is made,
    whichever logger made it and whichever handler will write it."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.msg, record.args = redact(record.getMessage()), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(record.exc_info[1])))
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    return factory


def _redacting_showwarning(show: Any) -> Any:
    """warnings.showwarning with the warning's message redacted."""

    def showwarning(message, category, filename, lineno, file=None, line=None) -> None:
        show(redact(str(message)), category, filename, lineno, file, line)

    showwarning.redacting = True  # type: ignore[attr-defined]
    return showwarning


class _RedactingStream:
    """A text stream (stdout, stderr) that redacts each text written to it, whole; every
    other attribute is the stream's own. A credential split over two writes would pass,
    which the project's own output never does: it prints each line in one write."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_outputs() -> None:
    """Send everything printed on stdout and stderr, every log record (any logger, its
    traceback too) and every warning shown through `redact`. Idempotent: the command line
    calls it before any work."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _RedactingStream):
            setattr(sys, name, _RedactingStream(stream))
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacting", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    if not getattr(warnings.showwarning, "redacting", False):
        warnings.showwarning = _redacting_showwarning(warnings.showwarning)


def redacted_traceback(error: BaseException) -> str:
    """The traceback of an error as Python prints it, redacted (for --verbose)."""
    return redact("".join(traceback.format_exception(error)))
