"""The three systems the benchmark compares, each fitted on one fold at a time.

- ``EngineSystem`` drives a real engine process over HTTP: upload, build, poll,
  batch predictions.
- ``FlamlSystem`` runs ``flaml_worker.py`` in the benchmark's own virtual
  environment, created by ``ensure_side_venv``.
- ``fit_default_hgb`` fits scikit-learn's HistGradientBoosting with default
  settings in this process.
"""

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)

from tests.benchmarks.scoring import Predictions
from tests.engine.engine_harness import EngineProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SIDE_VENV = HERE / ".venv-flaml"
# Exact versions, so that reruns compare the same FLAML. xgboost-cpu is the
# CPU-only build of xgboost, because the xgboost 2.1.4 wheel for Linux x86_64
# also installs nvidia-nccl-cu12, a CUDA library. With it FLAML keeps its full
# default estimator list. FLAML 2.8.0 declares xgboost<3 for its automl extra,
# hence 2.1.4. The dataset packages are here too, so that the project's
# environment needs none of them.
SIDE_REQUIREMENTS = (
    "flaml==2.8.0",
    "lightgbm==4.7.0",
    "xgboost-cpu==2.1.4",
    "scikit-learn==1.9.1",
    "scipy==1.17.1",
    "numpy==2.4.6",
    "pandas==3.1.1",
    "palmerpenguins==0.1.6",
    "vega_datasets==0.9.0",
    "statsmodels==0.15.0",
)
SIDE_MARKER = "benchmark-requirements.txt"
PIP_TIMEOUT_SECONDS = 1800
EXPORT_TIMEOUT_SECONDS = 300
SEED = 0
FLAML_METRICS = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "rmse"}
POLL_SECONDS = 0.25
PREDICTION_CHUNK_ROWS = 1000
HTTP_TIMEOUT_SECONDS = 60.0
MAX_ENGINE_RESTARTS = 3
TERMINAL = frozenset({"completed", "failed", "cancelled"})
# HistGradientBoosting accepts at most this many categories per categorical column.
HGB_MAX_CATEGORIES = 255


@dataclass
class FoldTask:
    """One outer fold of one dataset, written as CSV files for every system."""

    dataset: str
    target: str
    task: str
    metric: str
    goal: str
    fold: int
    train_path: Path
    test_path: Path
    train: pd.DataFrame
    test_features: pd.DataFrame


@dataclass
class Outcome:
    """What one system produced on one fold: predictions or an error, and timing."""

    predictions: Predictions | None
    seconds: float
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def side_python() -> Path:
    """Return the benchmark venv's interpreter."""
    return SIDE_VENV / "bin" / "python"


def ensure_side_venv() -> Path:
    """Create the benchmark venv with SIDE_REQUIREMENTS unless it already has them.

    Returns its interpreter. Raises RuntimeError when pip fails or times out.
    """
    marker = SIDE_VENV / SIDE_MARKER
    expected = "\n".join(SIDE_REQUIREMENTS) + "\n"
    if marker.exists() and marker.read_text() == expected and side_python().exists():
        return side_python()
    print(f"creating {SIDE_VENV} with {', '.join(SIDE_REQUIREMENTS)}", flush=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(SIDE_VENV)
    command = [str(side_python()), "-m", "pip", "install", "-q", *SIDE_REQUIREMENTS]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(
            f"pip install timed out after {PIP_TIMEOUT_SECONDS} s in {SIDE_VENV}"
        ) from error
    if completed.returncode != 0:
        raise RuntimeError(
            f"pip install failed in {SIDE_VENV}:\n{completed.stderr[-4000:]}"
        )
    marker.write_text(expected)
    return side_python()


def side_versions(python: Path) -> dict[str, str]:
    """Return the installed versions of the main packages in the benchmark venv."""
    names = ["flaml", "lightgbm", "xgboost-cpu", "scikit-learn", "pandas", "numpy"]
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    completed = subprocess.run(
        [str(python), "-c", code, *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    versions: dict[str, str] = json.loads(completed.stdout)
    return versions


def export_datasets(python: Path, names: list[str], folder: Path) -> None:
    """Write the named datasets as CSV files into ``folder``, using the side venv."""
    subprocess.run(
        [str(python), str(HERE / "export_datasets.py"), str(folder), *names],
        check=True,
        timeout=EXPORT_TIMEOUT_SECONDS,
    )


def build_timeout(budget: float) -> float:
    """Return the seconds after which one build counts as failed: 2 x budget + 30."""
    return budget * 2 + 30


def run_bounded(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group and kill the group on timeout.

    Raises subprocess.TimeoutExpired after killing it.
    """
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


class FlamlSystem:
    """FLAML's AutoML in the benchmark venv, one subprocess per fold."""

    name = "flaml"

    def __init__(self, python: Path, budget: float) -> None:
        self.python = python
        self.budget = budget

    def fit_predict(self, fold: FoldTask) -> Outcome:
        """Fit FLAML on the fold's training CSV and return its test predictions."""
        output = fold.train_path.with_name("flaml.json")
        command = [
            str(self.python),
            str(HERE / "flaml_worker.py"),
            "--train",
            str(fold.train_path),
            "--test",
            str(fold.test_path),
            "--target",
            fold.target,
            "--task",
            fold.task,
            "--metric",
            FLAML_METRICS[fold.metric],
            "--budget",
            str(self.budget),
            "--seed",
            str(SEED),
            "--output",
            str(output),
        ]
        started = time.monotonic()
        timeout = build_timeout(self.budget)
        try:
            completed = run_bounded(command, timeout)
        except subprocess.TimeoutExpired:
            seconds = time.monotonic() - started
            return Outcome(None, seconds, f"FLAML timed out after {timeout:.0f} s")
        seconds = time.monotonic() - started
        if completed.returncode != 0:
            last_lines = completed.stderr.strip().splitlines()[-3:]
            message = " | ".join(last_lines) or f"exit status {completed.returncode}"
            return Outcome(None, seconds, f"FLAML worker failed: {message}")
        result = json.loads(output.read_text())
        details = {
            "best_estimator": result["best_estimator"],
            "best_config": result["best_config"],
            "fit_seconds": result["fit_seconds"],
        }
        if fold.task == "regression":
            values = np.asarray(result["predictions"], dtype=float)
            return Outcome(Predictions(values=values), seconds, details=details)
        matrix = np.asarray(result["probabilities"], dtype=float)
        predictions = Predictions.from_matrix(result["classes"], matrix)
        return Outcome(predictions, seconds, details=details)


def fit_default_hgb(fold: FoldTask) -> Outcome:
    """Fit default HistGradientBoosting in-process and predict the test fold.

    Text columns become pandas categories, with the training set's categories, and
    HistGradientBoosting treats them as categorical features. A text column with
    more categories than it accepts is replaced by its category codes.
    """
    started = time.monotonic()
    x_train = fold.train.drop(columns=fold.target)
    y_train = fold.train[fold.target]
    x_train, x_test = _categories_for_hgb(x_train, fold.test_features)
    if fold.task == "regression":
        regressor = HistGradientBoostingRegressor(random_state=SEED)
        regressor.fit(x_train, y_train.astype(float))
        values = regressor.predict(x_test)
        return Outcome(Predictions(values=values), time.monotonic() - started)
    classifier = HistGradientBoostingClassifier(random_state=SEED)
    classifier.fit(x_train, y_train.astype(str))
    matrix = classifier.predict_proba(x_test)
    classes = [str(label) for label in classifier.classes_]
    predictions = Predictions.from_matrix(classes, matrix)
    return Outcome(predictions, time.monotonic() - started)


def _categories_for_hgb(
    train: pd.DataFrame, test: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = train.copy()
    test = test.copy()
    for column in train.columns:
        if pd.api.types.is_numeric_dtype(train[column]):
            continue
        categories = train[column].astype("category").cat.categories
        train[column] = pd.Categorical(train[column], categories=categories)
        test[column] = pd.Categorical(test[column], categories=categories)
        if len(categories) > HGB_MAX_CATEGORIES:
            train[column] = train[column].cat.codes.replace(-1, np.nan)
            test[column] = test[column].cat.codes.replace(-1, np.nan)
    return train, test


def engine_fingerprint(source_root: Path = ROOT) -> str:
    """Return a short hash of the engine's source files, to notice changes mid-run.

    ``source_root`` is the folder that contains the ``plexe_tui`` package.
    """
    digest = hashlib.sha256()
    for path in sorted((source_root / "plexe_tui" / "engine").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class EngineSystem:
    """A real engine process on a loopback port, with a temporary data folder."""

    name = "engine"

    def __init__(
        self,
        work_dir: Path,
        budget: float,
        max_iterations: int,
        source_root: Path | None = None,
    ) -> None:
        """``source_root``, when given, contains the ``plexe_tui`` package to run
        instead of the installed one (see ``extract_commit``)."""
        self.work_dir = work_dir
        self.budget = budget
        self.max_iterations = max_iterations
        self.source_root = source_root
        self.restarts = 0
        self.engine: EngineProcess | None = None

    def start(self) -> None:
        """Start an engine process with a new data folder."""
        data_dir = Path(tempfile.mkdtemp(prefix="engine-data-", dir=self.work_dir))
        self.engine = EngineProcess(data_dir, self.work_dir / "engine.log")
        self.engine.client.timeout = httpx.Timeout(HTTP_TIMEOUT_SECONDS)
        with _python_path(self.source_root):
            self.engine.start()

    def fingerprint(self) -> str:
        """Return the short hash of the engine source this system runs."""
        return engine_fingerprint(self.source_root or ROOT)

    def close(self) -> None:
        """Stop the engine process."""
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def log_tail(self, characters: int = 2000) -> str:
        """Return the end of the engine's log."""
        return self.engine.log()[-characters:] if self.engine else ""

    def fit_predict(self, fold: FoldTask) -> Outcome:
        """Build a model on the fold's training CSV and predict the test rows.

        Restarts the engine first if its process has exited, at most
        MAX_ENGINE_RESTARTS times in a run.
        """
        self._restart_if_exited()
        fingerprint = self.fingerprint()
        started = time.monotonic()
        try:
            outcome = self._build_and_predict(fold)
        except (AssertionError, httpx.HTTPError, KeyError, ValueError) as error:
            outcome = Outcome(
                None, time.monotonic() - started, f"{type(error).__name__}: {error}"
            )
        outcome.details["engine_fingerprint"] = fingerprint
        return outcome

    def _restart_if_exited(self) -> None:
        engine = self.engine
        if engine is not None and engine.process and engine.process.poll() is None:
            return
        if self.restarts >= MAX_ENGINE_RESTARTS:
            raise RuntimeError(
                f"the engine exited {self.restarts} times; see {self.work_dir}"
            )
        if engine is not None:
            print(f"engine exited, restarting:\n{self.log_tail()}", flush=True)
            self.restarts += 1
            self.close()
        self.start()

    def _build_and_predict(self, fold: FoldTask) -> Outcome:
        engine = self.engine
        assert engine is not None
        upload_id = engine.upload(fold.train_path, f"{fold.dataset}.csv")
        name = f"{fold.dataset}_fold{fold.fold}"
        body = {
            "goal": fold.goal,
            "upload_id": upload_id,
            "metric": fold.metric,
            "max_iterations": self.max_iterations,
            "timeout": self.budget,
        }
        if fold.task != "regression":
            body["output_schema"] = class_output_schema(fold)
        started = time.monotonic()
        response = engine.client.post(f"/models/{name}", json=body)
        if response.status_code != 202:
            return Outcome(
                None,
                time.monotonic() - started,
                f"build request returned {response.status_code}: {response.text}",
            )
        version = str(response.json()["model_version"])
        status = self._wait(name, version, started)
        seconds = time.monotonic() - started
        if status is None:
            timeout = build_timeout(self.budget)
            cancel = engine.client.delete(f"/models/{name}/{version}")
            return Outcome(
                None,
                seconds,
                f"build timed out after {timeout:.0f} s; DELETE returned "
                f"{cancel.status_code}",
            )
        if status["status"] != "completed":
            return Outcome(
                None, seconds, f"build {status['status']}: {status['error']}"
            )

        described = engine.client.get(f"/models/{name}/{version}/describe").json()
        model = engine.client.get(f"/models/{name}/{version}").json()
        details = _describe_details(described, model)
        if described["target"] != fold.target:
            message = (
                f"engine chose target {described['target']!r}, not {fold.target!r}"
            )
            return Outcome(None, seconds, message, details)
        # The engine rejects fields outside the model's input schema with 422,
        # such as constant columns the build left out, so only its fields are sent.
        features = fold.test_features[list(model["input_schema"])]
        outputs = self._predict(name, version, features)
        predictions = engine_predictions(fold.task, outputs, model, described)
        return Outcome(predictions, seconds, details=details)

    def _wait(self, name: str, version: str, started: float) -> dict[str, Any] | None:
        """Poll until the build ends, or return None after the build timeout."""
        assert self.engine is not None
        deadline = started + build_timeout(self.budget)
        while time.monotonic() < deadline:
            status = self.engine.status(name, version)
            if status["status"] in TERMINAL:
                return status
            time.sleep(POLL_SECONDS)
        return None

    def _predict(
        self, name: str, version: str, features: pd.DataFrame
    ) -> list[dict[str, Any]]:
        assert self.engine is not None
        # to_json writes NaN as null, which the engine reads as a missing value.
        rows: list[dict[str, Any]] = json.loads(features.to_json(orient="records"))
        outputs: list[dict[str, Any]] = []
        for start in range(0, len(rows), PREDICTION_CHUNK_ROWS):
            chunk = rows[start : start + PREDICTION_CHUNK_ROWS]
            response = self.engine.client.post(
                f"/models/{name}/{version}/predictions", json=chunk
            )
            if response.status_code != 200:
                raise ValueError(
                    f"predictions returned {response.status_code}: {response.text}"
                )
            outputs.extend(response.json())
        return outputs


@contextlib.contextmanager
def _python_path(folder: Path | None) -> Iterator[None]:
    """Make the processes started meanwhile import ``plexe_tui`` from ``folder``.

    ``folder`` goes first on PYTHONPATH, and the working directory becomes
    ``folder`` because ``python -c`` puts the working directory before PYTHONPATH.
    The editable install's finder comes after both. The engine's training
    processes are spawned with the server's environment and path, so they import
    from ``folder`` too.
    """
    if folder is None:
        yield
        return
    previous_path = os.environ.get("PYTHONPATH")
    previous_directory = Path.cwd()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(folder), previous_path) if part
    )
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous_directory)
        if previous_path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous_path


def class_output_schema(fold: FoldTask) -> dict[str, str]:
    """Return an output schema that asks for every class's probability.

    The target comes first, because ``engine_predictions`` reads the label from
    the first key other than ``probability``.
    """
    labels = fold.train[fold.target]
    if pd.api.types.is_bool_dtype(labels):
        label_type = "bool"
    elif pd.api.types.is_integer_dtype(labels):
        label_type = "int"
    else:
        label_type = "str"
    return {fold.target: label_type, "probability": "float", "probabilities": "str"}


def _describe_details(
    described: dict[str, Any], model: dict[str, Any]
) -> dict[str, Any]:
    approaches = described.get("approaches") or []
    return {
        "chosen": described.get("chosen"),
        "approaches": [
            {
                "name": approach.get("name"),
                "metric_value": approach.get("metric_value"),
                "seconds": approach.get("seconds"),
                "error": approach.get("error"),
            }
            for approach in approaches
        ],
        "search_note": described.get("search_note"),
        "dropped_columns": described.get("dropped_columns"),
        "cv_metric": (described.get("result") or {}).get("metric_value"),
        "output_schema": model.get("output_schema"),
    }


def engine_predictions(
    task: str,
    outputs: list[dict[str, Any]],
    model: dict[str, Any],
    described: dict[str, Any],
) -> Predictions:
    """Turn the engine's output objects into Predictions.

    The output key is the first ``output_schema`` key other than ``probability``.
    When every output carries a mapping from class to probability (a field the
    engine may add), those form the full matrix. Otherwise a binary matrix is
    rebuilt exactly from the top class and its probability, and a multiclass one
    is left unknown.
    """
    schema = model.get("output_schema") or {}
    keys = [key for key in schema if key != "probability"]
    output_key = keys[0] if keys else described["target"]
    if task == "regression":
        values = np.array([float(output[output_key]) for output in outputs])
        return Predictions(values=values)

    classes = [str(label) for label in described["classes"]]
    labels = [str(output[output_key]) for output in outputs]
    top = np.array([float(output["probability"]) for output in outputs])
    full = _class_probability_matrix(outputs, classes)
    if full is None and len(classes) == 2:
        positive_share = np.where(np.array(labels) == classes[1], top, 1.0 - top)
        full = np.column_stack([1.0 - positive_share, positive_share])
    return Predictions(
        labels=labels,
        top_probability=top,
        classes=classes,
        probabilities=full,
    )


def _class_probability_matrix(
    outputs: list[dict[str, Any]], classes: list[str]
) -> np.ndarray | None:
    """Return the matrix from a class-to-probability mapping in every output."""
    rows = []
    for output in outputs:
        mapping = next(
            (value for value in output.values() if isinstance(value, dict)), None
        )
        if mapping is None:
            return None
        by_class = {str(label): float(share) for label, share in mapping.items()}
        if not set(classes) <= set(by_class):
            return None
        rows.append([by_class[label] for label in classes])
    return np.array(rows) if rows else None


def extract_commit(revision: str, folder: Path) -> Path:
    """Write the ``plexe_tui`` package as of a git revision into ``folder``.

    Returns ``folder``, which then contains ``plexe_tui``. Raises
    subprocess.CalledProcessError for an unknown revision.
    """
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "plexe_tui"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    subprocess.run(
        ["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True, timeout=60
    )
    return folder


def python_versions() -> dict[str, str]:
    """Return the versions of Python and the main packages in this process."""
    import importlib.metadata

    names = ["scikit-learn", "numpy", "pandas", "httpx"]
    versions = {name: importlib.metadata.version(name) for name in names}
    versions["python"] = sys.version.split()[0]
    return versions
