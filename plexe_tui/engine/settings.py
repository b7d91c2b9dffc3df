"""Engine settings that come from the command line or the environment.

Each setting has an environment variable, so that an engine started by the app
(``plexe-tui engine``) can be configured without new command-line options.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_PARALLEL_BUILDS_VARIABLE = "PLEXE_ENGINE_MAX_PARALLEL_BUILDS"
DOWNLOAD_MAX_BYTES_VARIABLE = "PLEXE_ENGINE_DOWNLOAD_MAX_BYTES"
DOWNLOAD_TIMEOUT_VARIABLE = "PLEXE_ENGINE_DOWNLOAD_TIMEOUT"
UPLOAD_MAX_BYTES_VARIABLE = "PLEXE_ENGINE_UPLOAD_MAX_BYTES"
TOKEN_VARIABLE = "PLEXE_ENGINE_TOKEN"

DEFAULT_MAX_PARALLEL_BUILDS = 1
# Training loads the columns a build uses into memory, so this limit guards the
# training process's memory, not the transfer.
DEFAULT_UPLOAD_MAX_BYTES = 1 << 30
# The same limit as for uploaded files.
DEFAULT_DOWNLOAD_MAX_BYTES = DEFAULT_UPLOAD_MAX_BYTES
# Seconds for a whole dataset download. The download happens while the build
# request waits, and the app's client waits 15 s for a response.
DEFAULT_DOWNLOAD_TIMEOUT = 10.0


class InvalidSetting(ValueError):
    """A value of an environment variable or option that the engine cannot use."""


@dataclass(frozen=True)
class EngineSettings:
    """Builds that run at once, size and time limits, and the access token."""

    max_parallel_builds: int = DEFAULT_MAX_PARALLEL_BUILDS
    download_max_bytes: int = DEFAULT_DOWNLOAD_MAX_BYTES
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    token: str | None = field(default=None, repr=False)
    """Secret that every request except /health and the upload PUT must carry.
    None lets every request through."""

    @classmethod
    def from_environment(
        cls, environment: Mapping[str, str] = os.environ
    ) -> "EngineSettings":
        """Return the settings with the environment's values over the defaults.

        Raises InvalidSetting naming a variable whose value is not a positive number.
        An empty or unset token variable means no token.
        """
        return cls(
            max_parallel_builds=int(
                _positive(
                    environment,
                    MAX_PARALLEL_BUILDS_VARIABLE,
                    DEFAULT_MAX_PARALLEL_BUILDS,
                    integer=True,
                )
            ),
            download_max_bytes=int(
                _positive(
                    environment,
                    DOWNLOAD_MAX_BYTES_VARIABLE,
                    DEFAULT_DOWNLOAD_MAX_BYTES,
                    integer=True,
                )
            ),
            download_timeout=_positive(
                environment, DOWNLOAD_TIMEOUT_VARIABLE, DEFAULT_DOWNLOAD_TIMEOUT
            ),
            upload_max_bytes=int(
                _positive(
                    environment,
                    UPLOAD_MAX_BYTES_VARIABLE,
                    DEFAULT_UPLOAD_MAX_BYTES,
                    integer=True,
                )
            ),
            token=environment.get(TOKEN_VARIABLE, "").strip() or None,
        )


def _positive(
    environment: Mapping[str, str], name: str, default: float, integer: bool = False
) -> float:
    text = environment.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = 0
    if value <= 0:
        kind = "a positive whole number" if integer else "a positive number"
        raise InvalidSetting(f"{name} must be {kind}, not {text!r}.")
    return value
