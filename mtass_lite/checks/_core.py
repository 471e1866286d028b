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


def resolve_mixture_id(answer, ids: list[str]) -> str | None:
    """The metadata id a student's answer means — ``"000017"``, ``17`` (the index) or ``"17"`` — or
    ``None`` when it names no mixture of ``ids`` (a bool is not an index)."""
    if isinstance(answer, bool):
        return None
    if not isinstance(answer, str) and hasattr(answer, "__index__"):
        i = int(answer)
        return ids[i] if 0 <= i < len(ids) else None
    text = str(answer).strip()
    if text in ids:
        return text
    if text.isdigit() and int(text) < len(ids):
        return ids[int(text)]
    return None
