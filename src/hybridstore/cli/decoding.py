"""A file's bytes -> text for `ingest`, or why not.

A byte-order mark decides (UTF-8, UTF-16, UTF-32); then valid UTF-8 is read as UTF-8, whatever
--encoding says (one run may mix UTF-8 files with others); then the --encoding given. A file
that decodes to nothing sensible is refused, and the hint names only encodings that read it as
text.
"""

from __future__ import annotations

import codecs
import unicodedata

BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
GUESSES = ("cp1252", "latin-1")  # what a hint may name (with NUL bytes: UTF-16's)
WIDE = ("utf-16-le", "utf-16-be")
SPACE = set("\t\n\r\f\v")


def is_utf8(name: str) -> bool:
    return codecs.lookup(name).name == "utf-8"


def decode(data: bytes, encoding: str) -> tuple[str | None, str | None]:
    """(text, None), or (None, why it is not read, with the fix). `encoding`: a known codec
    (the command checks it first)."""
    for bom, name, label in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), None
            except UnicodeDecodeError as e:
                return None, (f"starts with a {label} byte-order mark but is not {label} text "
                              f"({_where(data, e)})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        problem = f"not UTF-8 text ({_where(data, e)})"
    else:
        if "\x00" not in text:
            return text, None
        problem = f"not UTF-8 text (NUL byte at offset {data.index(0)})"
    if not is_utf8(encoding):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            return None, f"{problem}, nor {encoding} text ({_where(data, e)}); {_hint(data)}"
        if _sensible(text):
            return text, None
        return None, f"{problem}; as {encoding} it reads as control characters, not text; {_hint(data)}"
    return None, f"{problem}; {_hint(data)}"


def _where(data: bytes, e: UnicodeDecodeError) -> str:
    return f"byte 0x{data[e.start]:02x} at offset {e.start}"


def _hint(data: bytes) -> str:
    fits = [name for name in (WIDE if b"\x00" in data else GUESSES) if _sensible(_try(data, name))]
    if not fits:
        return "it does not read as text in any common encoding (a binary file?)"
    options = " or ".join(f"--encoding {name}" for name in fits)
    return f"convert it to UTF-8, or pass {options} (it reads as text so; check which is right)"


def _try(data: bytes, name: str) -> str | None:
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        return None


def _sensible(text: str | None) -> bool:
    """Text, as far as one can tell: no control characters but spacing, no unassigned ones."""
    return text is not None and not any(
        (unicodedata.category(c) in ("Cc", "Cn", "Cs", "Co") and c not in SPACE) for c in text)
