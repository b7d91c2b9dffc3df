"""Modal screens that choose a dataset: a local file, or an upload on the server."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Generic, Self, TypeVar

from rich.text import Text, TextType
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, DirectoryTree, Input, Label, Static
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from plexe_tui.api import UploadInfo
from plexe_tui.ui.form_rules import DATA_SUFFIXES
from plexe_tui.ui.format import relative_time, size_text
from plexe_tui.ui.path_suggester import PathSuggester


def folder_label(path: Path) -> str:
    """Return a folder's path, written from `~` when it is in the home folder."""
    try:
        inside_home = path.relative_to(Path.home())
    except ValueError:
        return str(path)
    return "~" if inside_home == Path() else f"~/{inside_home}"


class DataFileTree(DirectoryTree):
    """A directory tree of folders and files with the given suffixes, hidden ones out.

    `name_filter` keeps only entries whose name contains it, ignoring case. The
    root is labelled with `folder_label`, which is shorter than the full path.
    """

    def __init__(
        self, path: Path, *, suffixes: tuple[str, ...] = DATA_SUFFIXES, id: str
    ) -> None:
        super().__init__(path, id=id)
        self.suffixes = suffixes
        self.name_filter = ""
        self.root.set_label(folder_label(path))

    def reset_node(
        self, node: TreeNode[DirEntry], label: TextType, data: DirEntry | None = None
    ) -> Self:
        if node is self.root and data is not None:
            label = folder_label(data.path)
        return super().reset_node(node, label, data)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        fragment = self.name_filter.lower()
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in self.suffixes)
            and fragment in path.name.lower()
        ]


class TypedPathSuggester(PathSuggester):
    """Complete typed paths only: a bare name finds entries of the folder shown."""

    async def get_suggestion(self, value: str) -> str | None:
        if os.sep not in value and not value.startswith("~"):
            return None
        return await super().get_suggestion(value)


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
    """Browse folders and choose a data file; escape returns None.

    Typing a name while the tree has the focus goes to the path field above it,
    which keeps only the entries that contain the name. A path typed there (or
    completed with the right arrow) opens its folder, and enter on a file's
    path chooses the file.
    """

    BINDINGS = [
        Binding(
            "backspace",
            "parent",
            "Up a folder",
            id="parent-folder",
            tooltip="Show the parent folder",
        ),
    ]

    def __init__(
        self,
        start: Path,
        title: str = "Choose a dataset file",
        *,
        suffixes: tuple[str, ...] = DATA_SUFFIXES,
    ) -> None:
        super().__init__()
        self.start = start
        self.title_text = title
        self.suffixes = suffixes

    def compose(self) -> ComposeResult:
        kinds = ", ".join(suffix.lstrip(".").upper() for suffix in self.suffixes)
        with Vertical(classes="picker"):
            yield Label(self.title_text, classes="picker-title", markup=False)
            yield Static(folder_label(self.start), id="picker-folder", markup=False)
            yield Input(
                placeholder=f"type to find a {kinds} file here, or a path",
                suggester=TypedPathSuggester(),
                id="picker-path",
                compact=True,
                select_on_focus=False,
            )
            yield DataFileTree(self.start, suffixes=self.suffixes, id="picker-tree")
            yield Static(
                "enter opens a folder or chooses a file · backspace goes up · "
                "typing finds · escape cancels",
                id="picker-hint",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(DataFileTree).focus()

    @property
    def tree(self) -> DataFileTree:
        return self.query_one(DataFileTree)

    def on_key(self, event: events.Key) -> None:
        """Send a printable key pressed in the tree to the path field, and down back."""
        field = self.query_one("#picker-path", Input)
        tree = self.tree
        if self.focused is tree and event.is_printable:
            field.focus()
            field.insert_text_at_cursor(event.character or "")
        elif self.focused is field and event.key == "down":
            tree.focus()
            # Line 0 is the folder itself; the first entry is below it.
            tree.cursor_line = max(tree.cursor_line, 1)
        else:
            return
        event.stop()
        event.prevent_default()

    @on(Input.Changed, "#picker-path")
    def path_changed(self, event: Input.Changed) -> None:
        text = event.value
        tree = self.tree
        if os.sep not in text and not text.startswith("~"):
            self.filter_tree(text)
            return
        typed = self.resolve(text)
        folder, name = (
            (typed, "") if text.endswith(os.sep) else (typed.parent, typed.name)
        )
        if folder.is_dir():
            if Path(tree.path) != folder:
                self.open_folder(folder)
            self.filter_tree(name)

    @on(Input.Submitted, "#picker-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        hint = self.query_one("#picker-hint", Static)
        if not text:
            self.tree.focus()
            return
        typed = self.resolve(text)
        if typed.is_dir():
            self.open_folder(typed)
            event.input.value = ""
            self.tree.focus()
        elif typed.is_file() and typed.suffix.lower() in self.suffixes:
            self.dismiss(typed)
        elif typed.is_file():
            hint.update(f"{typed.name} is not a {', '.join(self.suffixes)} file.")
        else:
            hint.update(f"No file or folder {typed}; down moves to the list.")

    def resolve(self, text: str) -> Path:
        """Return the typed path, relative to the folder shown."""
        path = Path(text).expanduser()
        return path if path.is_absolute() else Path(self.tree.path) / path

    def filter_tree(self, name: str) -> None:
        tree = self.tree
        if tree.name_filter != name:
            tree.name_filter = name
            tree.reload()

    def open_folder(self, folder: Path) -> None:
        self.tree.name_filter = ""
        self.tree.path = folder
        self.query_one("#picker-folder", Static).update(folder_label(folder))

    @on(DirectoryTree.FileSelected)
    def file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)

    def action_parent(self) -> None:
        self.open_folder(Path(self.tree.path).parent)


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
