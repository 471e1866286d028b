"""The verdict every self-check ends with."""
from __future__ import annotations


class CheckFailed(AssertionError):
    """A self-check found a wrong answer; the message says what is wrong."""


def verdict(name: str, problems: list[str], strict: bool = False) -> bool:
    """Print ``✓ name`` or ``✗ name: problem; problem``; return whether it passed.

    With ``strict=True`` a failure raises :class:`CheckFailed` (tests use it to show that a wrong
    answer fails the check)."""
    if problems:
        msg = f"✗ {name}: " + "; ".join(problems)
        if strict:
            raise CheckFailed(msg)
        print(msg)
        return False
    print(f"✓ {name}: correct")
    return True
