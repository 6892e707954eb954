"""Hashing passwords and PINs with argon2id (argon2-cffi).

Each stored hash is a PHC string that carries its own parameters (memory, time, parallelism) and salt, so the
parameters can be raised in ``use_parameters`` and every hash made with lower ones is remade at its owner's next
successful sign-in (``PasswordHasher.check_needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults: RFC 9106's low-memory profile (t=3, m=64 MiB, p=4), argon2id.
_hasher = PasswordHasher(type=Type.ID)


def use_parameters(*, time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Set the parameters new hashes are made with (tests use small ones to run quickly; raise them here)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)


def parameters() -> dict:
    return {"time_cost": _hasher.time_cost, "memory_cost": _hasher.memory_cost, "parallelism": _hasher.parallelism}


def make_hash(secret: str) -> str:
    return _hasher.hash(secret)


def matches(stored: str | None, secret: str) -> bool:
    """Whether the secret is the one hashed; a missing or damaged hash matches nothing."""
    if not stored:
        return False
    try:
        return _hasher.verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
