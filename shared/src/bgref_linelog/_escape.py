"""Reversible one-line escaping of log messages (CWE-117 safe)."""

from __future__ import annotations

import re

__all__ = ["UNSAFE_BYTES", "escape", "unescape"]

# Everything that could end, split or hide a line: C0, DEL, C1, the Unicode line
# and paragraph separators, and surrogates (not encodable as UTF-8); and the
# backslash, the escape character itself.
_UNSAFE = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ESCAPES = {chr(code): f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_ESCAPES.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})
_ESCAPES.update({chr(code): f"\\u{code:04x}" for code in range(0xD800, 0xE000)})
_ESCAPES.update({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})

# For the writer's fast path, which has the message's UTF-8 bytes at hand:
# bytes.translate(UNSAFE_BYTES) changes them whenever the message may hold a
# character that escape() changes, faster than str.isprintable. C0, DEL and
# the backslash are single bytes; C1 (U+0080-U+009F) and U+2028/U+2029 start
# with 0xC2 and 0xE2. Other text with those lead bytes takes the slow path,
# where escape() keeps it as it is.
UNSAFE_BYTES = bytes(
    code ^ 0x80 if code < 0x20 or code in (0x5C, 0x7F, 0xC2, 0xE2) else code for code in range(256)
)

_ESCAPE_SEQUENCE = re.compile(r"\\(?:([\\nrt])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))")
_SIMPLE = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def escape(message: str) -> str:
    """Return ``message`` as one line that ``unescape`` turns back into it."""
    # Every character that needs escaping is also unprintable, and
    # str.isprintable is faster than any regular expression.
    if "\\" in message or not message.isprintable():
        return _UNSAFE.sub(_escape_char, message)
    return message


def _escape_char(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def _decode(match: re.Match[str]) -> str:
    simple, byte, code = match.groups()
    if simple is not None:
        return _SIMPLE[simple]
    return chr(int(byte or code, 16))


def unescape(line: str) -> str:
    """Return the message that ``escape`` turned into ``line``."""
    if "\\" not in line:
        return line
    return _ESCAPE_SEQUENCE.sub(_decode, line)
