"""Contrast of text in snapshot SVGs, by WCAG 2.1's definition.

The SVGs that pytest-textual-snapshot writes draw each cell's background as a
`<rect>`, and each run of same-styled text as a `<text>` with a class whose
`fill` is the text colour. Both carry the x of their first cell and the line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RECT = re.compile(
    r'<rect fill="(#[0-9a-fA-F]{6})" x="([\d.]+)" y="([\d.]+)" '
    r'width="[\d.]+" height="[\d.]+" shape-rendering'
)
TEXT = re.compile(
    r'<text class="([\w-]+)" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
    r'clip-path="url\(#[\w-]+-line-(\d+)\)">(.*?)</text>'
)
TEXT_STYLE = re.compile(r"\.([\w-]+) \{ fill: (#[0-9a-fA-F]{6})")
# Box drawing, block elements and geometric shapes (U+2500 to U+25FF): borders,
# scroll bars and progress bars, which are not read as text.
GRAPHICS = re.compile(r"[\u2500-\u25ff]")


@dataclass(frozen=True)
class TextRun:
    """One run of same-styled text in a snapshot, and the colours it is drawn in."""

    text: str
    colour: str
    background: str
    line: int
    x: float
    """Left edge of the run's first cell, in SVG units."""

    @property
    def contrast(self) -> float:
        return contrast_ratio(self.colour, self.background)


def relative_luminance(colour: str) -> float:
    """Return the WCAG 2.1 relative luminance of a `#rrggbb` colour, 0 to 1."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """Return the WCAG 2.1 contrast ratio of two colours, from 1 to 21."""
    lighter, darker = sorted(
        (relative_luminance(first), relative_luminance(second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def text_runs(svg_path: Path) -> Iterator[TextRun]:
    """Yield each run of text that has a letter or digit, with its background."""
    svg = svg_path.read_text(encoding="utf-8")
    colours = dict(TEXT_STYLE.findall(svg))
    rows = sorted({float(y) for _, _, y in RECT.findall(svg)})
    backgrounds = {
        (rows.index(float(y)), round(float(x), 1)): fill
        for fill, x, y in RECT.findall(svg)
    }
    for style, x, _, line, escaped in TEXT.findall(svg):
        text = html.unescape(escaped).replace("\xa0", " ")
        readable = GRAPHICS.sub("", text)
        if not any(char.isalnum() for char in readable) or style not in colours:
            continue
        background = backgrounds.get((int(line), round(float(x), 1)))
        if background is not None:
            run = TextRun(text.strip(), colours[style], background, int(line), float(x))
            yield run


@dataclass(frozen=True)
class Box:
    """The lines and x range inside a box drawn with round corners."""

    top: int
    bottom: int
    left: float
    right: float

    def contains(self, run: TextRun) -> bool:
        inside_lines = self.top < run.line < self.bottom
        return inside_lines and self.left < run.x < self.right


def rounded_box(svg_path: Path) -> Box | None:
    """Return the first box with round corners (`╭` to `╯`), as modals draw."""
    svg = svg_path.read_text(encoding="utf-8")
    top = bottom = None
    left = right = 0.0
    for _, x, length, line, escaped in TEXT.findall(svg):
        text = html.unescape(escaped)
        cell = float(length) / len(text)
        if top is None and "╭" in text:
            top = int(line)
            left = float(x) + cell * text.index("╭")
        if top is not None and "╯" in text:
            bottom = int(line)
            right = float(x) + cell * text.index("╯")
            break
    if top is None or bottom is None:
        return None
    return Box(top, bottom, left, right)
