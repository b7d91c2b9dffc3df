"""Training one build: load the data, search the approaches, refit, save.

``train`` runs inside the training process and writes the build's progress to its
record after every step, so that the status endpoint can show it.
"""

import logging
import time
import warnings

from plexe_tui.engine.artifacts import ModelArtifact, save_model
from plexe_tui.engine.data import load_table
from plexe_tui.engine.errors import EngineError
from plexe_tui.engine.metrics import find_metric
from plexe_tui.engine.planning import training_data
from plexe_tui.engine.records import (
    ApproachResult,
    BuildState,
    MetricResult,
    now_iso,
)
from plexe_tui.engine.search import SearchOutcome, approaches, make_pipeline, run_search
from plexe_tui.engine.storage import MODEL_FILE_NAME, Storage
from plexe_tui.engine.views import describe_view

logger = logging.getLogger(__name__)

# build_progress (0-100) when each phase starts; the search fills the span between.
PROGRESS_LOADING = 2
PROGRESS_SEARCH = 5
PROGRESS_REFIT = 90
PROGRESS_SAVING = 95


def train(storage: Storage, name: str, version: str) -> None:
    """Train a build from its stored plan and record the result.

    Raises EngineError when the data cannot be read or no approach trains.
    """
    started = time.monotonic()
    record = storage.read_build(name, version)
    plan = record.plan
    timeout = record.request.timeout
    deadline = started + timeout if timeout else None
    _set_phase(storage, name, version, "loading", PROGRESS_LOADING, started=True)

    upload = storage.read_upload(record.request.upload_id)
    table = load_table(storage.upload_file(upload), upload.original_filename)
    features, y = training_data(table, plan)
    metric = find_metric(plan.metric)
    candidates = approaches(record.request.max_iterations)
    _set_phase(storage, name, version, "search", PROGRESS_SEARCH)

    def on_result(result: ApproachResult, outcome: SearchOutcome) -> None:
        logger.info(
            "build %s v%s: %s scored %s=%s in %.1f s%s",
            name,
            version,
            result.name,
            metric.name,
            result.metric_value,
            result.seconds,
            f" ({result.error})" if result.error else "",
        )
        _record_search(storage, name, version, outcome, len(candidates))

    outcome = run_search(
        features,
        y,
        plan.task,
        plan.feature_types,
        metric,
        candidates,
        deadline,
        on_result,
    )
    if outcome.best_index is None:
        errors = "; ".join(f"{r.name}: {r.error}" for r in outcome.results)
        raise EngineError(
            "search_failed", f"Every approach failed to train ({errors})."
        )
    best = candidates[outcome.best_index]
    _set_phase(storage, name, version, "refit", PROGRESS_REFIT)

    pipeline = make_pipeline(best, plan.task, plan.feature_types)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(features, y)
    _set_phase(storage, name, version, "saving", PROGRESS_SAVING)

    digest = save_model(storage, name, version, ModelArtifact(pipeline, plan.classes))
    _record_completion(storage, name, version, digest, outcome)
    storage.write_describe(
        name, version, describe_view(storage.read_build(name, version))
    )
    logger.info(
        "build %s v%s chose %s after %.1f s",
        name,
        version,
        best.name,
        time.monotonic() - started,
    )


def _set_phase(
    storage: Storage,
    name: str,
    version: str,
    phase: str,
    progress: int,
    started: bool = False,
) -> None:
    def change(state: BuildState) -> None:
        state.status = "building"
        state.phase = phase
        state.build_progress = progress
        if started:
            state.started_at = now_iso()
            state.iteration = 0
            state.approaches = []
            state.error = None

    storage.update_state(name, version, change)


def _record_search(
    storage: Storage, name: str, version: str, outcome: SearchOutcome, total: int
) -> None:
    done = len(outcome.results)
    span = PROGRESS_REFIT - PROGRESS_SEARCH
    best = _best_result(outcome)

    def change(state: BuildState) -> None:
        state.iteration = done
        state.build_progress = PROGRESS_SEARCH + span * done // total
        state.approaches = list(outcome.results)
        state.search_note = outcome.note
        state.chosen = _best_name(outcome)
        state.chosen_reason = outcome.best_reason
        state.best_so_far = best

    storage.update_state(name, version, change)


def _record_completion(
    storage: Storage, name: str, version: str, digest: str, outcome: SearchOutcome
) -> None:
    with storage.lock:
        record = storage.read_build(name, version)
        record.model_file = MODEL_FILE_NAME
        record.model_sha256 = digest
        state = record.state
        state.status = "completed"
        state.phase = None
        state.build_progress = 100
        state.result = _best_result(outcome)
        state.search_note = outcome.note
        state.finished_at = now_iso()
        storage.write_build(record)


def _best_name(outcome: SearchOutcome) -> str | None:
    if outcome.best_index is None:
        return None
    return outcome.results[outcome.best_index].name


def _best_result(outcome: SearchOutcome) -> MetricResult | None:
    if outcome.best_index is None:
        return None
    best = outcome.results[outcome.best_index]
    assert best.metric_value is not None
    return MetricResult(metric_name=outcome.metric_name, metric_value=best.metric_value)
