"""Training one build: load the data, search the approaches, refit, save.

``train`` runs inside the training process and writes the build's progress to its
record after every validation split, so that the status endpoint can show it.
"""

import logging
import time
from typing import Any

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from plexe_tui.engine.approaches import Approach, approaches
from plexe_tui.engine.artifacts import ModelArtifact, save_model
from plexe_tui.engine.budget import TimeBudget
from plexe_tui.engine.data import load_table
from plexe_tui.engine.ensemble import WeightedEnsemble
from plexe_tui.engine.errors import EngineError
from plexe_tui.engine.fitting import fit_pipeline
from plexe_tui.engine.inputs import model_columns
from plexe_tui.engine.metrics import find_metric
from plexe_tui.engine.planning import training_data
from plexe_tui.engine.records import BuildRecord, BuildState, MetricResult, now_iso
from plexe_tui.engine.search import SearchOutcome, run_search
from plexe_tui.engine.storage import MODEL_FILE_NAME, Storage
from plexe_tui.engine.validation import SearchData, make_validation
from plexe_tui.engine.views import describe_view

logger = logging.getLogger(__name__)

# Below this many rows a model trains fastest on one thread, because starting
# threads costs more than they save.
MIN_ROWS_FOR_THREADS = 20_000

# build_progress (0-100) when each phase starts; the search fills the span between.
PROGRESS_LOADING = 2
PROGRESS_SEARCH = 5
PROGRESS_REFIT = 90
PROGRESS_SAVING = 95


def train(
    storage: Storage,
    name: str,
    version: str,
    dispatched_at: float | None = None,
    threads: int = 1,
) -> None:
    """Train a build from its stored plan and record the result.

    ``dispatched_at`` is the ``time.time()`` when the server started the build;
    the build's timeout counts from then. ``threads`` is the most CPU threads the
    build may use. Raises EngineError when the data cannot be read or no approach
    trains.
    """
    started = time.monotonic()
    if dispatched_at is not None:
        started -= max(0.0, time.time() - dispatched_at)
    record = storage.read_build(name, version)
    budget = TimeBudget.starting_at(started, record.request.timeout)
    _set_phase(storage, name, version, "loading", PROGRESS_LOADING, started=True)

    data = _search_data(storage, record, threads)
    candidates = approaches(record.request.max_iterations)
    _set_phase(storage, name, version, "search", PROGRESS_SEARCH)
    storage.update_state(name, version, lambda state: _set_validation(state, data))

    def progress(outcome: SearchOutcome, split_share: float) -> None:
        _record_search(storage, name, version, outcome, len(candidates), split_share)

    outcome = run_search(data, candidates, budget, progress)
    _log_results(name, version, outcome)
    if outcome.best_index is None:
        errors = "; ".join(
            f"{r.name}: {r.error or r.skipped_reason}" for r in outcome.results
        )
        raise EngineError(
            "search_failed", f"Every approach failed to train ({errors})."
        )
    _set_phase(storage, name, version, "refit", PROGRESS_REFIT)

    model = _refit(data, candidates, outcome)
    _set_phase(storage, name, version, "saving", PROGRESS_SAVING)

    artifact = ModelArtifact(model, record.plan.classes)
    digest = save_model(storage, name, version, artifact)
    _record_completion(storage, name, version, digest, outcome)
    storage.write_describe(
        name, version, describe_view(storage.read_build(name, version))
    )
    logger.info(
        "build %s v%s chose %s after %.1f s",
        name,
        version,
        outcome.results[outcome.best_index].name,
        time.monotonic() - started,
    )


def _search_data(storage: Storage, record: BuildRecord, threads: int) -> SearchData:
    """Load the columns the plan uses and turn them into model input and target.

    Also limits this process's BLAS and OpenMP threads to the ones the data's
    size can use.
    """
    plan = record.plan
    upload = storage.read_upload(record.request.upload_id)
    table = load_table(
        storage.upload_file(upload),
        upload.original_filename,
        [*plan.features, plan.target],
    )
    features, y = training_data(table, plan)
    # The raw table is no longer needed; dropping it keeps one copy in memory.
    del table
    threads = threads if len(y) >= MIN_ROWS_FOR_THREADS else 1
    threadpool_limits(limits=threads)
    return SearchData(
        features=features,
        y=y,
        task=plan.task,
        columns=model_columns(plan),
        metric=find_metric(plan.metric),
        class_count=len(plan.classes or []),
        validation=make_validation(plan.task, y),
        threads=threads,
    )


def _refit(data: SearchData, candidates: list[Approach], outcome: SearchOutcome) -> Any:
    """Fit the chosen approach, or every member of the ensemble, on all rows."""
    if outcome.ensemble is None:
        assert outcome.best_index is not None
        return _fit(candidates[outcome.best_index], data)
    members = [_fit(candidates[index], data) for index, _ in outcome.ensemble.weights]
    weights = [weight for _, weight in outcome.ensemble.weights]
    return WeightedEnsemble(members, weights, data.task)


def _fit(approach: Approach, data: SearchData) -> Any:
    return fit_pipeline(
        approach,
        data.task,
        data.columns,
        data.features,
        data.y,
        len(data.y),
        data.threads,
    )


def _log_results(name: str, version: str, outcome: SearchOutcome) -> None:
    for result in outcome.results:
        logger.info(
            "build %s v%s: %s scored %s=%s in %.1f s%s",
            name,
            version,
            result.name,
            outcome.metric_name,
            result.metric_value,
            result.seconds,
            f" ({result.error or result.skipped_reason})"
            if result.error or result.skipped_reason
            else "",
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
            state.started_at = state.started_at or now_iso()
            state.iteration = 0
            state.approaches = []
            state.error = None

    storage.update_state(name, version, change)


def _set_validation(state: BuildState, data: SearchData) -> None:
    state.validation = data.validation.description
    state.validation_splits = len(data.validation.splits)


def _record_search(
    storage: Storage,
    name: str,
    version: str,
    outcome: SearchOutcome,
    total: int,
    split_share: float,
) -> None:
    done = len(outcome.results)
    span = PROGRESS_REFIT - PROGRESS_SEARCH
    best = _best_result(outcome)

    def change(state: BuildState) -> None:
        state.iteration = done
        state.build_progress = PROGRESS_SEARCH + int(
            span * min(done + split_share, total) / total
        )
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
        state.iteration = len(outcome.results)
        state.approaches = list(outcome.results)
        state.chosen = _best_name(outcome)
        state.chosen_reason = outcome.best_reason
        state.result = _best_result(outcome)
        state.best_so_far = state.result
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
