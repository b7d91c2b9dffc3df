"""Modal screens that choose a dataset: a local file, or an upload on the server."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Generic, Self, TypeVar

from rich.text import Text, TextType
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, DirectoryTree, Label, Static
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from plexe_tui.api import UploadInfo
from plexe_tui.ui.form_rules import DATA_SUFFIXES
from plexe_tui.ui.format import relative_time, size_text


def folder_label(path: Path) -> str:
    """Return a folder's path, written from `~` when it is in the home folder."""
    try:
        inside_home = path.relative_to(Path.home())
    except ValueError:
        return str(path)
    return "~" if inside_home == Path() else f"~/{inside_home}"


class DataFileTree(DirectoryTree):
    """A directory tree that shows folders and data files only, hidden ones left out.

    Its root is labelled with `folder_label`, which is shorter than the full path.
    """

    def __init__(self, path: Path, *, id: str | None = None) -> None:
        super().__init__(path, id=id)
        self.root.set_label(folder_label(path))

    def reset_node(
        self, node: TreeNode[DirEntry], label: TextType, data: DirEntry | None = None
    ) -> Self:
        if node is self.root and data is not None:
            label = folder_label(data.path)
        return super().reset_node(node, label, data)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in DATA_SUFFIXES)
        ]


Choice = TypeVar("Choice")


class PickerScreen(ModalScreen[Choice | None], Generic[Choice]):
    """A modal that returns what the user chose, or None when escape closes it."""

    BINDINGS = [
        Binding(
            "escape",
            "dismiss_none",
            "Cancel",
            id="cancel",
            tooltip="Close without choosing",
        ),
    ]

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class FilePickerScreen(PickerScreen[Path]):
    """Browse folders and choose a CSV or JSON file; escape returns None."""

    BINDINGS = [
        Binding(
            "backspace",
            "parent",
            "Up a folder",
            id="parent-folder",
            tooltip="Show the parent folder",
        ),
    ]

    def __init__(self, start: Path, title: str = "Choose a dataset file") -> None:
        super().__init__()
        self.start = start
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker"):
            yield Label(self.title_text, classes="picker-title", markup=False)
            yield Static(folder_label(self.start), id="picker-folder", markup=False)
            yield DataFileTree(self.start, id="picker-tree")
            yield Static(
                "enter opens a folder or chooses a file · backspace goes up · "
                "escape cancels",
                classes="hint",
                markup=False,
            )

    @on(DirectoryTree.FileSelected)
    def file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)

    def action_parent(self) -> None:
        tree = self.query_one(DataFileTree)
        parent = Path(tree.path).parent
        tree.path = parent
        self.query_one("#picker-folder", Static).update(folder_label(parent))


class UploadPickerScreen(PickerScreen[str]):
    """Choose one of the server's uploads; escape returns None."""

    def __init__(self, uploads: list[UploadInfo], now: datetime) -> None:
        """`now` is the time the Created column counts back from."""
        super().__init__()
        self.uploads = uploads
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker"):
            yield Label("Choose an upload on the server", classes="picker-title")
            yield DataTable(id="upload-table", cursor_type="row", zebra_stripes=True)
            yield Static("enter chooses · escape cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#upload-table", DataTable)
        for key, label in (("id", "Upload id"), ("file", "File"), ("size", "Size")):
            table.add_column(label, key=key)
        table.add_column("Status", key="status")
        table.add_column("Created", key="created")
        for upload in self.uploads:
            table.add_row(
                Text(upload.upload_id),
                Text(upload.filename or ""),
                Text(size_text(upload.size_bytes)),
                Text(upload.status or ""),
                Text(relative_time(upload.created_at, self.now)),
                key=upload.upload_id,
            )

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(None if event.row_key.value is None else str(event.row_key.value))
