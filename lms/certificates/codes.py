"""Verification codes and serial numbers for certificates (pure: no Flask, no database).

A verification code is what a holder reads out or an employer types in. It
is 17 random characters and one check character, from an alphabet of 29 with
no characters that look or sound alike (no 0/O, 1/I/L, U/V), written in groups
of four: ``K7QM-3XRT-9PDH-W2CZ-8N``. 17 random characters carry 82 bits,
enough that nobody can guess a valid code. The check
character catches any one mistyped character and any two swapped
neighbours, so a typo is told apart from a code that was never issued.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"  # no 0 O 1 I L U V
# Chosen so every character is distinct when read aloud or handwritten.
RANDOM_LENGTH = 17
CODE_LENGTH = RANDOM_LENGTH + 1
GROUP = 4
SERIAL_PREFIX = "PSW"

_INDEX = {char: number for number, char in enumerate(ALPHABET)}
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]+")


def code_bits() -> float:
    """How many bits of randomness a code carries."""
    import math

    return RANDOM_LENGTH * math.log2(len(ALPHABET))


def check_character(body: str) -> str:
    """The check character of ``body``: a position-weighted sum modulo 29.

    29 (the alphabet's size) is prime and the weights 1..17 are all different,
    so any one changed character, and any two neighbours swapped, change it.
    """
    return ALPHABET[sum(weight * _INDEX[char] for weight, char in enumerate(body, start=1)) % len(ALPHABET)]


def new_code(choose=secrets.choice) -> str:
    """A fresh verification code, compact (no dashes): 17 random characters and a check character."""
    body = "".join(choose(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_character(body)


def format_code(compact: str) -> str:
    """``K7QM3XRT9PVDHW2C8N`` -> ``K7QM-3XRT-9PVD-HW2C-8N`` (groups of four for reading aloud)."""
    return "-".join(compact[i:i + GROUP] for i in range(0, len(compact), GROUP))


def compact_code(text: str) -> str:
    """What someone typed, upper-cased with spaces and dashes taken out."""
    return _SEPARATORS.sub("", (text or "").strip()).upper()


def code_problem(text: str) -> str | None:
    """Why ``text`` cannot be a verification code, in plain words, or None when it could be one."""
    compact = compact_code(text)
    if not compact:
        return "Enter the verification code printed on the certificate, under the QR code."
    strange = sorted({char for char in compact if char not in _INDEX})
    if strange:
        shown = ", ".join(repr(char) for char in strange[:5])
        return (f"Verification codes do not use {shown}. They use only the letters and numbers "
                "printed on the certificate (there is no 0, O, 1, I, L, U or V). Check the code and try again.")
    if len(compact) != CODE_LENGTH:
        return (f"A verification code has {CODE_LENGTH} letters and numbers; this one has {len(compact)}. "
                "Check the code and try again.")
    if check_character(compact[:-1]) != compact[-1]:
        return ("This code has a mistake in it: one character may be mistyped or two swapped. "
                "Check it against the certificate and try again.")
    return None


def normalise_code(text: str) -> str | None:
    """The compact form of a well-formed code, or None when ``text`` is not one."""
    return None if code_problem(text) else compact_code(text)


def serial_number(year: int, number: int) -> str:
    """``PSW-2026-000123``: the course prefix, the year of issue and a running number."""
    return f"{SERIAL_PREFIX}-{year:04d}-{number:06d}"
