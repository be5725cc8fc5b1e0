"""Gift card codes: 100 random bits written as 20 characters of Crockford's base 32 alphabet, in
five groups of four (``7K3M-Q9XD-…``).

The alphabet has no I, L, O or U, so no two characters look alike; reading a code back accepts any
case, spaces and dashes anywhere, and the look-alikes I and L (as 1) and O (as 0). Only the SHA-256
of the normalized code is stored; the last group is kept as a hint, leaving 80 unknown bits.
"""

import hashlib
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
GROUP = 4
BITS = LENGTH * 5

_IGNORED = re.compile(r"[\s\-_.]")
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALID = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def formatted(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalized(raw: str) -> str | None:
    """The code as stored (20 characters of the alphabet), or None when ``raw`` cannot be one."""
    code = _IGNORED.sub("", raw or "").upper().translate(_LOOK_ALIKES)
    return code if _VALID.match(code) else None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def hint(code: str) -> str:
    return code[-GROUP:]
