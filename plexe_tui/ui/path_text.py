"""A file path or URL that wraps after its separators, not in the middle of a name."""

from __future__ import annotations

import re

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

# A piece ends after a separator, so each line but the last ends in one.
PIECES = re.compile(r"[^/\\?&=]*[/\\?&=]|[^/\\?&=]+")


class PathText:
    """Render a path on as many lines as it needs, each break after a separator.

    A piece longer than the width (a very long file name) is folded, as plain
    text would be.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def __rich_measure__(
        self, console: Console, options: ConsoleOptions
    ) -> Measurement:
        longest = max((len(piece) for piece in PIECES.findall(self.path)), default=0)
        return Measurement(min(longest, options.max_width), len(self.path))

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        width = max(1, options.max_width)
        lines = [""]
        for piece in PIECES.findall(self.path):
            if lines[-1] and len(lines[-1]) + len(piece) > width:
                lines.append("")
            lines[-1] += piece
        for line in lines:
            text = Text(line)
            text.overflow = "fold"
            yield text
