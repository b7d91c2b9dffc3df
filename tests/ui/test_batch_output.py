"""Where batch predictions go when the input's folder cannot take them."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plexe_tui.api import PlexeClient
from plexe_tui.samples import SAMPLE_DATASET
from plexe_tui.ui.batch import FIRST_CHUNK_ROWS, BatchPredictor
from plexe_tui.ui.batch_output import (
    PACKAGE_DIR,
    choose_output_folder,
    default_fallbacks,
    is_inside_app,
)
from plexe_tui.ui.inference import Feature
from plexe_tui.ui.server_features import ServerFeatures
from tests.fake_platform import FAKE_API_KEY, FakePlatform
from tests.ui.helpers import TERMINAL_SIZE, make_app, toasts, wait_until, write_jobs
from tests.ui.test_inference_form import (
    batch_status,
    fake_job,
    open_form,
    pick,
    script_model,
)

SAMPLE_ROWS = 569
SAMPLE_REASON = (
    "It is not beside breast_cancer.csv because that file is part of the "
    "installed app, which may be read-only."
)
RADIUS = "mean radius"
NOBODY = 65534
"""User and group id of `nobody` on Linux."""


@pytest.fixture
async def fake_client(platform: FakePlatform) -> AsyncIterator[PlexeClient]:
    client = PlexeClient(platform.url, FAKE_API_KEY)
    yield client
    await client.aclose()


def script_sample_batches(platform: FakePlatform, name: str, version: str) -> None:
    """Script responses to the sample's batch requests: 50, 500, then 19 rows."""
    path = f"/models/{name}/{version}/predictions"
    rest = SAMPLE_ROWS - FIRST_CHUNK_ROWS
    for size in (FIRST_CHUNK_ROWS, 500, rest - 500):
        platform.respond("POST", path, json=[{"diagnosis": "benign"}] * size)


def sample_outputs() -> list[Path]:
    return sorted(SAMPLE_DATASET.parent.glob("*.predictions*"))


def test_sample_is_inside_app() -> None:
    assert is_inside_app(SAMPLE_DATASET.parent)
    assert not is_inside_app(PACKAGE_DIR.parent)


def test_writable_folder_kept(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"

    chosen = choose_output_folder(source, [tmp_path / "elsewhere"])

    assert chosen.path == tmp_path
    assert chosen.reason is None
    assert not (tmp_path / "elsewhere").exists()


def test_fallback_inside_app_skipped(tmp_path: Path) -> None:
    missing = tmp_path / "data" / "predictions"

    chosen = choose_output_folder(SAMPLE_DATASET, [PACKAGE_DIR, missing])

    assert chosen.path == missing
    assert missing.is_dir()
    assert chosen.reason == SAMPLE_REASON


def test_default_fallbacks_start_with_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    fallbacks = default_fallbacks()

    assert fallbacks[0] == tmp_path
    assert fallbacks[1].name == "predictions"


def choose_as_nobody(source: Path, fallbacks: list[Path]) -> tuple[str, str | None]:
    """Run choose_output_folder in a child process as the user `nobody`.

    Root may write to any folder whatever its mode, so a read-only folder
    needs another user to be read-only at all.
    """
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            chosen = choose_output_folder(source, fallbacks)
            os.write(writing, json.dumps([str(chosen.path), chosen.reason]).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    path, reason = json.loads(data)
    return path, reason


@pytest.mark.skipif(os.name == "nt", reason="Windows has no POSIX modes")
def test_read_only_folder_passed_over() -> None:
    # Not under tmp_path: pytest makes its base folder private to this user,
    # and `nobody` must reach the folders.
    with tempfile.TemporaryDirectory() as name:
        base = Path(name)
        base.chmod(0o777)
        locked = base / "locked"
        locked.mkdir()
        source = locked / "rows.csv"
        source.write_text("x\n1\n", "utf-8")
        locked.chmod(0o555)
        try:
            if os.geteuid() == 0:
                path, reason = choose_as_nobody(source, [base])
            else:
                chosen = choose_output_folder(source, [base])
                path, reason = str(chosen.path), chosen.reason
        finally:
            locked.chmod(0o755)

    assert path == str(base)
    assert reason == f"It is not beside rows.csv because you cannot write to {locked}."


async def test_sample_predicted_into_cwd(
    platform: FakePlatform,
    fake_client: PlexeClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    platform.set_build("sample", "1", status="completed")
    script_sample_batches(platform, "sample", "1")
    predictor = BatchPredictor(
        fake_client, "sample", "1", [Feature(RADIUS, "float")], ServerFeatures()
    )

    progress = await predictor.run(SAMPLE_DATASET)

    assert progress.output == tmp_path / "breast_cancer.predictions.csv"
    assert progress.output_reason == SAMPLE_REASON
    assert progress.done == SAMPLE_ROWS
    assert sample_outputs() == []
    with progress.output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == SAMPLE_ROWS
    assert rows[0]["predicted_diagnosis"] == "benign"


async def test_detail_says_where_sample_went(
    platform: FakePlatform,
    config_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    script_model(platform, {RADIUS: "float"})
    script_sample_batches(platform, "churn", "4")
    write_jobs(config_dir, [fake_job(platform.url, dataset=str(SAMPLE_DATASET))])
    app = make_app(platform.url, config_dir)
    output = work / "breast_cancer.predictions.csv"

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await pick(pilot, SAMPLE_DATASET)
        await wait_until(
            pilot, lambda: "Written to" in batch_status(pilot), "the end of the batch"
        )
        status = batch_status(pilot)
        shown = [message for _, message, _ in toasts(pilot)]

    assert status == (
        f"Predicted {SAMPLE_ROWS} rows of breast_cancer.csv. Written to {output}. "
        f"{SAMPLE_REASON}"
    )
    assert shown == [
        f"Predictions for breast_cancer.csv are in {output}. {SAMPLE_REASON}"
    ]
    assert output.is_file()
    assert sample_outputs() == []
