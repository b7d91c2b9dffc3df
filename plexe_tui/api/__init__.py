"""Client for the Plexe Platform API: records, status words and errors. No UI code."""

from plexe_tui.api.client import PlexeClient
from plexe_tui.api.errors import ApiError, NetworkError, RateLimitedError
from plexe_tui.api.records import (
    BuildRef,
    BuildRequest,
    BuildStatus,
    ModelPage,
    UploadInfo,
)
from plexe_tui.api.status import BuildState, is_terminal, normalize_status

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
