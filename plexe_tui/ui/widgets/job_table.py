"""A table of jobs that draws only the rows on screen.

Textual's DataTable measures every cell of every row it is given, and it has
no way to hide rows, so each filter keystroke would refill it: refilling
4,000 of 5,000 rows took 1.4 s with Textual 8.2 on a shared 2-core machine.
This table keeps no cells at all. `JobList` contains the order of the shown
jobs, and each repaint requests from it the cells of the rows in view.
Filtering, sorting and refreshing therefore cost what the list operations
cost, and the cursor stays on its job by key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from plexe_tui.ui.job_list import COLUMNS, JobList

CELL_PADDING = 1
"""Blank cells on each side of every column."""
HEADER_HEIGHT = 1
SORT_ARROWS = {True: "▼", False: "▲"}
"""Marks of the sort column in the header, by `descending`."""


@dataclass(frozen=True)
class _Frame:
    """Values that every line of one repaint shares."""

    base: Style
    even: Style
    header: Style
    cursor: Style
    widths: list[int]
    now: datetime


class JobTable(ScrollView, can_focus=True):
    """The rows of a `JobList`, with a row cursor and a header that shows the sort."""

    COMPONENT_CLASSES = {
        "job-table--header",
        "job-table--cursor",
        "job-table--even-row",
    }

    DEFAULT_CSS = """
    JobTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus {
            background-tint: $foreground 5%;
            & > .job-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .job-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .job-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .job-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .job-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS = [
        Binding(
            "up",
            "cursor_up",
            "Up",
            show=False,
            id="table.cursor-up",
            tooltip="Move to the previous job",
        ),
        Binding(
            "down",
            "cursor_down",
            "Down",
            show=False,
            id="table.cursor-down",
            tooltip="Move to the next job",
        ),
        Binding(
            "pageup",
            "page_up",
            "Page up",
            show=False,
            id="table.page-up",
            tooltip="Move up one screen of jobs",
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="table.page-down",
            tooltip="Move down one screen of jobs",
        ),
        Binding(
            "home",
            "first_row",
            "First row",
            show=False,
            id="table.first-row",
            tooltip="Move to the first job",
        ),
        Binding(
            "end",
            "last_row",
            "Last row",
            show=False,
            id="table.last-row",
            tooltip="Move to the last job",
        ),
    ]

    class Selected(Message):
        """The user clicked the row under the cursor."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class SortClicked(Message):
        """The user clicked a column's header."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(
        self,
        model: JobList,
        clock: Callable[[], datetime],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.clock = clock
        self.cursor_row = 0
        """Index in `model.order` of the row under the cursor."""
        self._frame: _Frame | None = None

    # Reading the table

    @property
    def row_count(self) -> int:
        """How many jobs are shown."""
        return len(self.model.order)

    @property
    def cursor_key(self) -> str | None:
        """Key of the job under the cursor, or None when no job is shown."""
        return self.cursor_key_in(self.model.order)

    def cursor_key_in(self, order: list[str]) -> str | None:
        """Return the key under the cursor in `order`, an order shown before."""
        if not order:
            return None
        return order[min(self.cursor_row, len(order) - 1)]

    def row_text(self, key: str) -> list[str]:
        """Return the plain text of a job's cells as the table shows them now."""
        widths = self._column_widths()
        cells = self.model.cells(key, self.clock(), self.app.current_theme, widths[0])
        return [cell.plain for cell in cells]

    def cell_text(self, key: str, column: str) -> str:
        """Return the plain text of one cell of a job."""
        index = [item.key for item in COLUMNS].index(column)
        return self.row_text(key)[index]

    def visible_range(self) -> range:
        """Return the indexes in `model.order` of the rows in view."""
        first = round(self.scroll_offset.y)
        rows_in_view = max(0, self.size.height - HEADER_HEIGHT)
        return range(first, min(first + rows_in_view, self.row_count))

    # Changing what is shown

    def show_order(self, keep: str | None) -> None:
        """Show `model.order` after it changed; the cursor stays on job `keep`.

        When that job is no longer shown, the cursor stays at the same index.
        The scroll position changes only as far as needed to keep the cursor
        in view.
        """
        order = self.model.order
        if keep is not None:
            with contextlib.suppress(ValueError):
                self.cursor_row = order.index(keep)
        self.cursor_row = max(0, min(self.cursor_row, len(order) - 1))
        self._update_virtual_size()
        self._scroll_cursor_into_view()
        self.refresh()

    def refresh_jobs(self, keys: Iterable[str]) -> None:
        """Redraw the rows of these jobs that are in view, and no others."""
        order = self.model.order
        top = round(self.scroll_offset.y)
        changed_keys = set(keys)
        for index in self.visible_range():
            if order[index] in changed_keys:
                line = index - top + HEADER_HEIGHT
                self.refresh(Region(0, line, self.size.width, 1))

    def refresh_columns(self, columns: Iterable[str]) -> None:
        """Redraw only these columns of the rows in view, e.g. the relative times."""
        rows = self.visible_range()
        if not rows:
            return
        redrawn = set(columns)
        x = 0
        for column, width in zip(COLUMNS, self._column_widths(), strict=True):
            full = width + 2 * CELL_PADDING if width else 0
            if column.key in redrawn:
                self.refresh(Region(x, HEADER_HEIGHT, full, len(rows)))
            x += full

    def move_cursor(self, row: int) -> None:
        """Put the cursor on a row index, clamped, and scroll it into view."""
        if not self.model.order:
            return
        self.cursor_row = max(0, min(row, self.row_count - 1))
        self._scroll_cursor_into_view()
        self.refresh()

    def _update_virtual_size(self) -> None:
        size = Size(self.size.width, self.row_count + HEADER_HEIGHT)
        if size == self.virtual_size:
            return
        # Setting `virtual_size` the usual way lays the whole screen out
        # again, which costs more than the rest of a filter keystroke. Only
        # the scrollbar depends on it, and `_scroll_update` refreshes that,
        # with a layout only when the scrollbar appears or goes.
        self.set_reactive(JobTable.virtual_size, size)
        self._scroll_update(size)

    def _scroll_cursor_into_view(self) -> None:
        rows_in_view = max(1, self.size.height - HEADER_HEIGHT)
        top = round(self.scroll_offset.y)
        if self.cursor_row < top:
            top = self.cursor_row
        elif self.cursor_row >= top + rows_in_view:
            top = self.cursor_row - rows_in_view + 1
        if top != round(self.scroll_offset.y):
            self.scroll_to(y=top, animate=False, immediate=True)

    # Key and mouse actions

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - max(1, self.size.height - HEADER_HEIGHT))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + max(1, self.size.height - HEADER_HEIGHT))

    def action_first_row(self) -> None:
        self.move_cursor(0)

    def action_last_row(self) -> None:
        self.move_cursor(self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y < HEADER_HEIGHT:
            column = self._column_at(offset.x)
            if column is not None:
                self.post_message(self.SortClicked(column))
            return

        row = round(self.scroll_offset.y) + offset.y - HEADER_HEIGHT
        if row >= self.row_count:
            return
        if row == self.cursor_row or event.chain > 1:
            key = self.model.order[row]
            self.move_cursor(row)
            self.post_message(self.Selected(key))
        else:
            self.move_cursor(row)

    def _column_at(self, x: int) -> str | None:
        left = 0
        for column, width in zip(COLUMNS, self._column_widths(), strict=True):
            left += width + 2 * CELL_PADDING if width else 0
            if x < left:
                return column.key
        return None

    # Drawing

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    def _column_widths(self) -> list[int]:
        return self.model.column_widths(self.size.width, CELL_PADDING)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles, widths and the time are read once per repaint, not per line:
        # reading `rich_style` walks the ancestors, and costs more than a row.
        self._frame = self._make_frame()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        frame = self._frame or self._make_frame()
        width = self.size.width
        if y < HEADER_HEIGHT:
            return self._header_strip(width, frame)
        index = round(self.scroll_offset.y) + y - HEADER_HEIGHT
        if index >= self.row_count:
            return Strip.blank(width, frame.base)
        return self._row_strip(index, width, frame)

    def _make_frame(self) -> _Frame:
        base = self.rich_style
        return _Frame(
            base=base,
            even=base + self.get_component_rich_style("job-table--even-row"),
            header=self.get_component_rich_style("job-table--header"),
            cursor=self.get_component_rich_style("job-table--cursor"),
            widths=self._column_widths(),
            now=self.clock(),
        )

    def _header_strip(self, width: int, frame: _Frame) -> Strip:
        labels = []
        for column in COLUMNS:
            label = column.label
            if column.key == self.model.sort_column:
                label += SORT_ARROWS[self.model.descending]
            labels.append(Text(label))
        return self._strip(labels, width, frame.widths, frame.header, None)

    def _row_strip(self, index: int, width: int, frame: _Frame) -> Strip:
        key = self.model.order[index]
        theme = self.app.current_theme
        cells = self.model.cells(key, frame.now, theme, frame.widths[0])
        style = frame.even if index % 2 == 0 else frame.base
        cursor = frame.cursor if index == self.cursor_row else None
        return self._strip(cells, width, frame.widths, style, cursor)

    def _strip(
        self,
        cells: list[Text],
        width: int,
        widths: list[int],
        style: Style,
        cursor: Style | None,
    ) -> Strip:
        """Lay cells out at the column widths, under `style` and over `cursor`.

        Unstyled cells and the blanks between cells are joined into runs of
        plain text, because each segment costs a style addition below.
        """
        console = self.app.console
        segments: list[Segment] = []
        run = " " * CELL_PADDING
        for cell, column_width in zip(cells, widths, strict=True):
            if column_width == 0:
                continue  # A column hidden on a narrow table.
            cell.truncate(column_width, overflow="ellipsis")
            text = cell.plain
            if text and (cell.style or cell.spans):
                segments.append(Segment(run))
                # Text.render leaves out the Text's own style, which only
                # printing adds, so it is applied here under the spans.
                own_style = console.get_style(cell.style) if cell.style else None
                segments.extend(Segment.apply_style(cell.render(console), own_style))
                run = ""
            else:
                run += text
            run += " " * (column_width - cell.cell_len + 2 * CELL_PADDING)
        segments.append(Segment(run))
        styled = list(Segment.apply_style(segments, style, cursor))
        return Strip(styled).adjust_cell_length(width, style + (cursor or Style()))
