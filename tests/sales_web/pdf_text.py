"""Reads the text drawn on the pages of a PDF made by fpdf2, in pure Python (no PDF library needed).

Enough of PDF for fpdf2's output: objects, Flate streams, fonts with ToUnicode CMaps (embedded TrueType
subsets), core fonts (Latin-1) and literal strings shown with Tj.
"""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream", re.S)
_TOKENS = re.compile(rb"/([A-Za-z0-9_.+-]+)\s+[-\d.]+\s+Tf|(\((?:\\.|[^\\)])*\))\s*Tj|\[((?:\\.|[^\]])*)\]\s*TJ", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    out = {}
    for m in _OBJ.finditer(data):
        body = m.group(2)
        s = _STREAM.match(body)
        if s:
            head, raw = s.group(1), s.group(2)
            if b"/FlateDecode" in head:
                raw = zlib.decompress(raw)
            out[int(m.group(1))] = (head, raw)
        else:
            out[int(m.group(1))] = (body, None)
    return out


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 1
    while i < len(literal) - 1:
        c = literal[i : i + 1]
        if c == b"\\":
            nxt = literal[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i += 1 + len(octal.group(0))
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


def _cmap(stream: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(start + k)
    return table


def pdf_text(data: bytes) -> str:
    """The text shown on every page, one string per Tj/TJ, joined by newlines."""
    objects = _objects(data)
    fonts: dict[bytes, dict[int, str] | None] = {}
    for head, _ in objects.values():
        for block in re.findall(rb"/Font\s*<<(.*?)>>", head, re.S):
            for name, ref in re.findall(rb"/([A-Za-z0-9_.+-]+)\s+(\d+) 0 R", block):
                font_head = objects.get(int(ref), (b"", None))[0]
                to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", font_head)
                cmap = _cmap(objects[int(to_unicode.group(1))][1] or b"") if to_unicode else None
                fonts[name] = cmap
    texts: list[str] = []
    for head, stream in objects.values():
        if stream is None or b"/Type /XObject" in head or b"/Length1" in head:
            continue
        if b"Tj" not in stream and b"TJ" not in stream:
            continue
        cmap: dict[int, str] | None = None
        for m in _TOKENS.finditer(stream):
            if m.group(1) is not None:
                cmap = fonts.get(m.group(1))
                continue
            literals = [m.group(2)] if m.group(2) is not None else re.findall(rb"\((?:\\.|[^\\)])*\)", m.group(3))
            raw = b"".join(_unescape(lit) for lit in literals)
            if cmap is None:
                texts.append(raw.decode("latin-1"))
            else:
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)]
                texts.append("".join(cmap.get(code, "\ufffd") for code in codes))
    return "\n".join(texts)
