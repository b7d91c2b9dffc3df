"""Calling a finished model from its detail screen: one row, or a whole CSV file.

The features come from the server's model record (`GET /models/{name}/{version}`),
else from the input schema the job was submitted with. The form is prefilled
from the first row of the job's dataset when that is a local file that still
exists.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from plexe_tui.api import ApiError
from plexe_tui.store import Job
from plexe_tui.ui.batch import BatchError, BatchPredictor
from plexe_tui.ui.detail_view import ModelSchemas
from plexe_tui.ui.inference import Feature, example_row, features_from_schema
from plexe_tui.ui.screens.pickers import FilePickerScreen
from plexe_tui.ui.widgets.batch_panel import BatchPanel
from plexe_tui.ui.widgets.inference_form import InferenceForm

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp
    from plexe_tui.ui.screens.detail import DetailScreen

log = logging.getLogger(__name__)


class Predictions:
    """The inference form and the batch prediction of one detail screen."""

    def __init__(self, screen: DetailScreen) -> None:
        self.screen = screen
        self.features: list[Feature] = []
        self.output_keys: list[str] = []
        self.loaded = False
        """Whether the model's features were asked for (once per screen)."""
        self.batch: Worker[None] | None = None
        """The batch prediction in progress, if any."""

    @property
    def app(self) -> PlexeApp:
        return self.screen.plexe

    @property
    def form(self) -> InferenceForm:
        return self.screen.query_one(InferenceForm)

    @property
    def panel(self) -> BatchPanel:
        return self.screen.query_one(BatchPanel)

    @property
    def batch_running(self) -> bool:
        """Whether a batch prediction is running."""
        return self.batch is not None and self.batch.is_running

    def load(self, job: Job) -> None:
        """Ask once for the model's features, when the build has completed."""
        if self.loaded or job.status != "completed":
            return
        self.loaded = True
        self.screen.run_worker(
            self.load_features(job), name="model-inputs", exit_on_error=False
        )

    async def load_features(self, job: Job) -> None:
        """Fetch the input schema, read an example row, and fill the form."""
        schema: Any = job.input_schema
        try:
            client = await self.screen.connection(job).client()
            model = await client.get_model(job.model_name, job.model_version)
        except ApiError as exc:
            log.info("No model record of %s: %s", job.label, exc.message)
        else:
            schema = model.get("input_schema") or schema
            self.output_keys = [str(key) for key in model.get("output_schema") or {}]
            self.screen.show_model_schemas(
                ModelSchemas(
                    _schema_or_none(model.get("input_schema")),
                    _schema_or_none(model.get("output_schema")),
                )
            )

        self.features = features_from_schema(schema)
        example = await asyncio.to_thread(example_row, job.dataset, self.features)
        await self.form.set_features(
            self.features, example, self.form_note(job, example)
        )
        self.screen.show_predictions(bool(self.features))

    def form_note(self, job: Job, example: dict[str, str]) -> str:
        """Say where the form's values come from, or why there is no form."""
        if not self.features:
            return (
                "The server sent no input schema for this model, so the form "
                "cannot list its features."
            )
        source = f" Filled from the first row of {job.dataset}." if example else ""
        return (
            f"{len(self.features)} features. An empty field sends null, a missing "
            f"value. Enter in a field predicts.{source}"
        )

    async def infer(self, body: dict[str, Any]) -> Any:
        """Send one row to the model of the screen's job."""
        job = self.screen.job
        if job is None:
            raise ApiError("This job is no longer in the history.")
        client = await self.screen.connection(job).client()
        return await client.infer(job.model_name, job.model_version, body)

    def pick_file(self, job: Job) -> None:
        """Open the CSV file picker, then predict the chosen file.

        The picker opens in the working folder, not in the training file's,
        because the rows to predict are new ones. Its path field reaches any
        other folder.
        """

        def picked(path: Path | None) -> None:
            if path is not None:
                self.start_batch(job, path)

        title = "Choose a CSV file to predict, one row per prediction"
        picker = FilePickerScreen(Path.cwd(), title, suffixes=(".csv",))
        self.app.push_screen(picker, picked)

    def start_batch(self, job: Job, path: Path) -> None:
        """Predict every row of `path` in the background."""
        self.panel.display = True
        self.screen.query_one("#batch-label").display = True
        self.panel.start(path)
        self.panel.scroll_visible(animate=False)
        self.batch = self.screen.run_worker(
            self.run_batch(job, path), name="batch", exclusive=True
        )
        self.screen.refresh_bindings()

    async def run_batch(self, job: Job, path: Path) -> None:
        """Run one batch prediction and show how it ended."""
        client = await self.screen.connection(job).client()
        predictor = BatchPredictor(
            client,
            job.model_name,
            job.model_version,
            self.features,
            self.app.servers.features_for(job.server),
            output_keys=self.output_keys,
            on_progress=self.panel.show_progress,
        )
        try:
            progress = await predictor.run(path)
        except asyncio.CancelledError:
            self.panel.show_stopped(predictor.progress, None)
            raise
        except BatchError as exc:
            self.panel.show_stopped(predictor.progress, str(exc))
        except ApiError as exc:
            log.warning("Batch prediction of %s failed: %s", path, exc.message)
            message = f"Predicting {path.name} failed: {exc.message}"
            self.panel.show_stopped(predictor.progress, message)
        else:
            self.panel.show_done(progress)
            reason = f" {progress.output_reason}" if progress.output_reason else ""
            self.app.notify(
                f"Predictions for {path.name} are in {progress.output}.{reason}",
                title="Batch prediction",
                markup=False,
            )
        finally:
            self.screen.call_after_refresh(self.screen.refresh_bindings)

    def stop_batch(self) -> None:
        """Cancel the batch prediction in progress."""
        if self.batch is not None:
            self.batch.cancel()


def _schema_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value else None
