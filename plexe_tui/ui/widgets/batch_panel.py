"""The progress of a batch prediction: a bar, the row counts and the output file."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from plexe_tui.ui.batch import BatchProgress


class BatchPanel(Vertical):
    """Shows one batch prediction at a time: running, finished, failed or cancelled."""

    DEFAULT_CSS = """
    BatchPanel { height: auto; }
    BatchPanel #batch-status { height: auto; }
    BatchPanel #batch-status.-error { color: $readable-error; }
    BatchPanel #batch-progress { margin: 0 0 1 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = Path()
        """The input file of the run shown."""

    def compose(self) -> ComposeResult:
        yield Static("", id="batch-status", markup=False)
        yield ProgressBar(id="batch-progress", show_eta=False)

    def start(self, source: Path) -> None:
        """Show that a file is being read before any row is sent."""
        self.source = source
        self._set_status(f"Reading {source}…")
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)

    def show_progress(self, progress: BatchProgress) -> None:
        """Move the bar and count the rows done."""
        bar = self.query_one(ProgressBar)
        bar.update(total=max(progress.total, 1), progress=progress.done)
        mode = " one request per row," if progress.one_per_row else ""
        self._set_status(
            f"Predicting {self.source.name}:{mode} {progress.done:,} of "
            f"{progress.total:,} rows{_failed(progress)}. Press x to stop."
        )

    def show_done(self, progress: BatchProgress) -> None:
        """Say where the predictions went."""
        self._set_status(
            f"Predicted {progress.done:,} rows of {self.source.name}"
            f"{_failed(progress)}. Written to {progress.output}.{_reason(progress)}"
        )

    def show_stopped(self, progress: BatchProgress, reason: str | None) -> None:
        """Say why the run ended early and what the output file holds.

        `reason` is None when the user cancelled.
        """
        if progress.output is not None and progress.done:
            output_note = (
                f" The first {progress.done:,} of {progress.total:,} rows' "
                f"predictions are in {progress.output}.{_reason(progress)}"
            )
        else:
            output_note = " No output file was written."
        if reason is None:
            self._set_status(f"Stopped predicting {self.source.name}.{output_note}")
        else:
            self._set_status(f"{reason}{output_note}", error=True)
        self.query_one(ProgressBar).display = progress.done > 0

    def _set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#batch-status", Static)
        status.update(text)
        status.set_class(error, "-error")


def _failed(progress: BatchProgress) -> str:
    if not progress.failed:
        return ""
    return f", {progress.failed:,} with an error (see the error column)"


def _reason(progress: BatchProgress) -> str:
    """Return why the output is not beside the input, after a space, or ""."""
    return f" {progress.output_reason}" if progress.output_reason else ""
