"""The floor of the startup benchmark: a minimal Textual app with a 50-row table.

It has what the job list has at its simplest: a header, a DataTable and a
footer. Its time to the first frame is the least that any Textual app of
that shape takes on the machine that runs it. `startup.py` runs it
under a pseudo-terminal and waits for MARKER, the first row's first cell.
"""

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

ROWS = 50
MARKER = "floor-row-049"
"""First cell of the first row: the rows are added newest (highest) first."""


class FloorApp(App[None]):
    """Header, a DataTable of ROWS rows and a footer."""

    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Status", "Metric", "Progress", "Created", "Updated")
        for index in reversed(range(ROWS)):
            table.add_row(
                f"floor-row-{index:03d}",
                "completed",
                "roc_auc 0.981",
                "100%",
                "3 d ago",
                "3 d ago",
            )


if __name__ == "__main__":
    FloorApp().run()
