"""A minimal, strict ASN.1 DER encoder and reader: just what SM2 key files and SM2 signatures need
(``cryptography`` cannot load keys on the SM2 curve).

The reader accepts definite lengths in their shortest form only and refuses trailing bytes, so a
value has exactly one encoding; anything else is a :class:`DerError` (a ValueError).
"""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x30, 0x02, 0x03, 0x04, 0x05, 0x06


class DerError(ValueError):
    """Bytes that are not the DER this module expects."""


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def seq(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def integer(v: int) -> bytes:
    if v < 0:
        raise DerError("negative integers are not used here")
    return tlv(INTEGER, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def octets(b: bytes) -> bytes:
    return tlv(OCTET_STRING, b)


def bits(b: bytes) -> bytes:
    return tlv(BIT_STRING, b"\x00" + b)


def null() -> bytes:
    return tlv(NULL, b"")


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        out.extend(reversed(chunk))
    return tlv(OID, bytes(out))


@dataclass(frozen=True)
class Node:
    tag: int
    body: bytes
    raw: bytes  # the whole TLV

    def children(self) -> list["Node"]:
        if not self.tag & 0x20:
            raise DerError(f"tag 0x{self.tag:02x} is not constructed")
        return read_all(self.body)

    def int(self) -> int:
        self.expect(INTEGER)
        if not self.body or (len(self.body) > 1 and self.body[0] == 0 and not self.body[1] & 0x80):
            raise DerError("an INTEGER is not minimally encoded")
        if self.body[0] & 0x80:
            raise DerError("negative INTEGER")
        return int.from_bytes(self.body, "big")

    def oid(self) -> str:
        self.expect(OID)
        if not self.body or self.body[-1] & 0x80:
            raise DerError("malformed OBJECT IDENTIFIER")
        values, cur = [], 0
        for byte in self.body:
            cur = (cur << 7) | (byte & 0x7F)
            if not byte & 0x80:
                values.append(cur)
                cur = 0
        first = min(values[0] // 40, 2)
        return ".".join(str(v) for v in [first, values[0] - 40 * first, *values[1:]])

    def octets(self) -> bytes:
        self.expect(OCTET_STRING)
        return self.body

    def bits(self) -> bytes:
        self.expect(BIT_STRING)
        if not self.body or self.body[0] != 0:
            raise DerError("a BIT STRING with unused bits")
        return self.body[1:]

    def expect(self, tag: int) -> "Node":
        if self.tag != tag:
            raise DerError(f"expected tag 0x{tag:02x}, found 0x{self.tag:02x}")
        return self


def read_one(data: bytes, pos: int = 0) -> tuple[Node, int]:
    if pos + 2 > len(data):
        raise DerError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used here")
    pos += 2
    if first < 0x80:
        n = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad DER length")
        n = int.from_bytes(data[pos:pos + count], "big")
        if n < 0x80 or data[pos] == 0:
            raise DerError("DER length not in its shortest form")
        pos += count
    if pos + n > len(data):
        raise DerError("truncated DER")
    start = pos - (2 if first < 0x80 else 2 + (first & 0x7F))
    return Node(tag, data[pos:pos + n], data[start:pos + n]), pos + n


def read_all(data: bytes) -> list[Node]:
    out, pos = [], 0
    while pos < len(data):
        node, pos = read_one(data, pos)
        out.append(node)
    return out


def parse(data: bytes) -> Node:
    """Exactly one DER value, no trailing bytes."""
    node, end = read_one(data)
    if end != len(data):
        raise DerError("trailing bytes after the DER value")
    return node


def pem(label: str, der: bytes) -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode("ascii")


def unpem(data: bytes, label: str) -> bytes:
    import base64
    import binascii

    text = data.decode("ascii", "replace")
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text or end not in text:
        raise DerError(f"no {label} PEM block")
    body = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DerError(f"the {label} PEM block is not base64") from None
