"""Build status words: the canonical five, and the spellings other servers send."""

from __future__ import annotations

from enum import StrEnum


class BuildState(StrEnum):
    """Canonical build states, as the local engine sends them."""

    PENDING = "pending"
    BUILDING = "building"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset(
    {BuildState.COMPLETED, BuildState.FAILED, BuildState.CANCELLED}
)

# Words seen from the hosted platform across its documentation generations.
_ALIASES: dict[str, BuildState] = {
    "pending": BuildState.PENDING,
    "queued": BuildState.PENDING,
    "draft": BuildState.PENDING,
    "building": BuildState.BUILDING,
    "processing": BuildState.BUILDING,
    "running": BuildState.BUILDING,
    "completed": BuildState.COMPLETED,
    "complete": BuildState.COMPLETED,
    "ready": BuildState.COMPLETED,
    "failed": BuildState.FAILED,
    "error": BuildState.FAILED,
    "cancelled": BuildState.CANCELLED,
    "canceled": BuildState.CANCELLED,
}


def normalize_status(word: object) -> str:
    """Map a server's status word to its canonical form.

    A word outside the known vocabulary comes back unchanged (as text), so the
    UI can show it as it came; such a word is never terminal.
    """
    text = "" if word is None else str(word).strip()
    state = _ALIASES.get(text.lower())
    return state.value if state is not None else text


def is_terminal(status: str) -> bool:
    """Return whether a normalised status word means the build has ended."""
    return status in TERMINAL_STATES
