"""Client for the Plexe Platform API: records, status words and errors. No UI code.

`PlexeClient` is imported on first use, because its module imports httpx, which
takes about 0.1 s. The app's first frame needs only the records and errors.
"""

from typing import TYPE_CHECKING, Any

from plexe_tui.api.errors import ApiError, NetworkError, RateLimitedError
from plexe_tui.api.records import (
    BuildRef,
    BuildRequest,
    BuildStatus,
    ModelPage,
    UploadInfo,
)
from plexe_tui.api.status import BuildState, is_terminal, normalize_status

if TYPE_CHECKING:
    from plexe_tui.api.client import PlexeClient

__all__ = [
    "ApiError",
    "BuildRef",
    "BuildRequest",
    "BuildState",
    "BuildStatus",
    "ModelPage",
    "NetworkError",
    "PlexeClient",
    "RateLimitedError",
    "UploadInfo",
    "is_terminal",
    "normalize_status",
]


def __getattr__(name: str) -> Any:
    """Import `PlexeClient` when it is first requested."""
    if name == "PlexeClient":
        from plexe_tui.api.client import PlexeClient

        return PlexeClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
