"""Tiny PDFs written by hand for the tests: pages of text in a standard Type1 font, an image-only
page, a damaged file, an encrypted one (a password nobody knows). PDFium reads them all."""

from __future__ import annotations

import zlib


def _string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _stream(body: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(body)}{extra} >>\nstream\n".encode() + body + b"\nendstream"


def pdf(pages: list[list[str] | None], title: str | None = None, encrypted: bool = False) -> bytes:
    """A PDF whose page n shows the lines pages[n] (None: a page holding only an image)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                            _stream(zlib.compress(bytes(range(64)) * 64), " /Type /XObject /Subtype "
                                    "/Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
                                    "/BitsPerComponent 8 /Filter /FlateDecode")]
    kids = []
    for lines in pages:
        if lines is None:
            content = b"q 400 0 0 400 100 200 cm /Im0 Do Q"
        else:
            shown = " T* ".join(f"{_string(line)} Tj" for line in lines)
            content = f"BT /F1 11 Tf 14 TL 72 720 Td {shown} ET".encode()
        objects.append(_stream(content))
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
                       f"{len(objects)} 0 R /Resources << /Font << /F1 3 0 R >> "
                       "/XObject << /Im0 4 0 R >> >> >>".encode())
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    trailer = f"/Root 1 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>]"
    if title is not None:
        objects.append(f"<< /Title {_string(title)} /Producer (tests) >>".encode())
        trailer += f" /Info {len(objects)} 0 R"
    if encrypted:  # RC4, 40 bits; /U does not match the empty password: one must be given
        objects.append(f"<< /Filter /Standard /V 1 /R 2 /O <{'11' * 32}> /U <{'22' * 32}> "
                       "/P -44 >>".encode())
        trailer += f" /Encrypt {len(objects)} 0 R"
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} {trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def broken() -> bytes:
    """The first bytes of a PDF, cut off."""
    return pdf([["cut off"]])[:40]
