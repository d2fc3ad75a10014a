"""App-generated string ids (never database-internal ids, which differ per backend)."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """A sortable, unique id such as ``task_01J…``: ms timestamp + 64 random bits, base32."""
    stamp = time.time_ns() // 1_000_000
    rand = secrets.randbits(64)
    return f"{prefix}_{_b32(stamp, 9)}{_b32(rand, 13)}"


_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _b32(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        out.append(_ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))
