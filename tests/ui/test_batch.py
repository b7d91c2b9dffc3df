"""Batch prediction of a CSV file on the real engine, and faults from a fake server."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plexe_tui.api import PlexeClient
from plexe_tui.api.errors import NotFoundError
from plexe_tui.ui import batch
from plexe_tui.ui.batch import (
    FIRST_CHUNK_ROWS,
    BatchError,
    BatchPredictor,
    BatchProgress,
    open_output,
)
from plexe_tui.ui.inference import Feature, features_from_schema
from plexe_tui.ui.server_features import ServerFeatures
from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FAKE_API_KEY, FakePlatform

PENGUIN_ROWS = 344
SPECIES = {"Adelie", "Chinstrap", "Gentoo"}
FAKE_FEATURES = [Feature("x", "float"), Feature("colour", "str")]
FAKE_OUTPUT = {"label": "yes", "probability": 0.75}
# Seconds the tests let a batch run before giving up on a condition.
WAIT_SECONDS = 10.0
# Seconds a scripted response is held: longer than any test waits for it.
HELD_SECONDS = 60.0


@pytest.fixture
async def engine_client(model_engine: EngineProcess) -> AsyncIterator[PlexeClient]:
    client = PlexeClient(model_engine.base_url)
    yield client
    await client.aclose()


@pytest.fixture
async def fake_client(platform: FakePlatform) -> AsyncIterator[PlexeClient]:
    client = PlexeClient(platform.url, FAKE_API_KEY)
    yield client
    await client.aclose()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry after 10 ms instead of seconds, so that retries do not slow the suite."""
    monkeypatch.setattr(batch, "RETRY_SECONDS", 0.01)


def penguin_features(engine: EngineProcess, model: tuple[str, str]) -> list[Feature]:
    record = engine.client.get(f"/models/{model[0]}/{model[1]}").json()
    return features_from_schema(record["input_schema"])


def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def header_of(path: Path, delimiter: str = ",") -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter))


def write_fake_rows(path: Path, count: int) -> Path:
    lines = ["x,colour"] + [f"{n / 10},c{n % 3}" for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fake_predictor(
    client: PlexeClient,
    features: ServerFeatures,
    seen: list[BatchProgress] | None = None,
) -> BatchPredictor:
    def record(progress: BatchProgress) -> None:
        if seen is not None:
            seen.append(BatchProgress(**vars(progress)))

    return BatchPredictor(
        client, "churn", "1", FAKE_FEATURES, features, on_progress=record
    )


async def wait_for(condition: Any, what: str) -> None:
    """Let the event loop run until `condition()` is true; fail after WAIT_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(
                f"Timed out after {WAIT_SECONDS} s waiting for {what}."
            )
        await asyncio.sleep(0.01)


# The real engine


async def test_batch_writes_new_csv(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    engine_client: PlexeClient,
    penguins_file: Path,
) -> None:
    seen: list[int] = []
    features = ServerFeatures()
    predictor = BatchPredictor(
        engine_client,
        *penguins_model,
        penguin_features(model_engine, penguins_model),
        features,
        on_progress=lambda progress: seen.append(progress.done),
    )

    progress = await predictor.run(penguins_file)

    output = penguins_file.with_name("penguins.predictions.csv")
    rows = read_csv(output)
    header = header_of(output)
    assert progress.output == output
    assert progress.done == progress.total == PENGUIN_ROWS
    assert progress.failed == 0
    assert header[:8] == header_of(penguins_file)
    assert header[8] == "predicted_species"
    assert header[-1] == "error"
    assert len(rows) == PENGUIN_ROWS
    assert {row["predicted_species"] for row in rows} <= SPECIES
    assert all(0 < float(row["probability"]) <= 1 for row in rows)
    assert [row["species"] for row in rows] == [
        row["species"] for row in read_csv(penguins_file)
    ]
    assert seen[:3] == [0, FIRST_CHUNK_ROWS, PENGUIN_ROWS]
    assert features.batch_predictions is True


async def test_batch_never_overwrites(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    engine_client: PlexeClient,
    penguins_file: Path,
) -> None:
    existing = penguins_file.with_name("penguins.predictions.csv")
    existing.write_text("keep me\n", encoding="utf-8")
    predictor = BatchPredictor(
        engine_client,
        *penguins_model,
        penguin_features(model_engine, penguins_model),
        ServerFeatures(),
    )

    progress = await predictor.run(penguins_file)

    assert progress.output == penguins_file.with_name("penguins.predictions-2.csv")
    assert existing.read_text(encoding="utf-8") == "keep me\n"


async def test_batch_bad_value_in_error_column(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    engine_client: PlexeClient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "three.csv"
    source.write_text(
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
        "Biscoe,45.1,14.5,215,5000,female,2008\n"
        "Dream,long,18.0,190,3700,male,2008\n"
        "Torgersen,39.1,18.7,181,3750,male,2007\n",
        encoding="utf-8",
    )
    predictor = BatchPredictor(
        engine_client,
        *penguins_model,
        penguin_features(model_engine, penguins_model),
        ServerFeatures(),
    )

    progress = await predictor.run(source)

    rows = read_csv(source.with_name("three.predictions.csv"))
    assert progress.failed == 1
    assert [row["error"] for row in rows] == [
        "",
        "bill_length_mm must be a number, such as 3.5",
        "",
    ]
    assert rows[0]["species"] in SPECIES
    assert rows[1]["species"] == ""


async def test_batch_semicolons_latin1(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    engine_client: PlexeClient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "européen.csv"
    source.write_bytes(
        "island;bill_length_mm;bill_depth_mm;flipper_length_mm;body_mass_g;sex;"
        "year;note\n"
        "Biscoe;45,1;14.5;215;5000;female;2008;été\n".replace("45,1", "45.1").encode(
            "latin-1"
        )
    )
    predictor = BatchPredictor(
        engine_client,
        *penguins_model,
        penguin_features(model_engine, penguins_model),
        ServerFeatures(),
    )

    await predictor.run(source)

    (row,) = read_csv(source.with_name("européen.predictions.csv"), delimiter=";")
    assert row["note"] == "été"
    assert row["species"] in SPECIES


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            "island,bill_length_mm\nDream,40\n",
            "short.csv",
            "short.csv has no column for 'bill_depth_mm', 'flipper_length_mm'",
        ),
        (
            "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,"
            "year\n",
            "header.csv",
            "header.csv has a header but no data rows.",
        ),
        ("", "empty.csv", "empty.csv is empty: it has no header row."),
        ('[{"island": "Dream"}]', "rows.json", "rows.json is not a CSV file."),
    ],
)
async def test_batch_unusable_file(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    engine_client: PlexeClient,
    tmp_path: Path,
    content: str,
    name: str,
    message: str,
) -> None:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    predictor = BatchPredictor(
        engine_client,
        *penguins_model,
        penguin_features(model_engine, penguins_model),
        ServerFeatures(),
    )

    with pytest.raises(BatchError) as caught:
        await predictor.run(source)

    assert str(caught.value).startswith(message)
    assert list(tmp_path.glob("*.predictions*")) == []


def test_open_output_names(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    names = []
    for _ in range(3):
        path, handle = open_output(source)
        handle.close()
        names.append(path.name)

    assert names == [
        "rows.predictions.csv",
        "rows.predictions-2.csv",
        "rows.predictions-3.csv",
    ]


# Faults, from the fake platform


async def test_batch_falls_back_on_404(
    platform: FakePlatform, fake_client: PlexeClient, tmp_path: Path
) -> None:
    platform.set_build("churn", "1", status="completed", output=FAKE_OUTPUT)
    source = write_fake_rows(tmp_path / "rows.csv", 30)
    features = ServerFeatures()

    progress = await fake_predictor(fake_client, features).run(source)

    rows = read_csv(source.with_name("rows.predictions.csv"))
    assert platform.count("POST", "/models/churn/1/predictions") == 1
    assert platform.count("POST", "/models/churn/1/infer") == 30
    assert features.batch_predictions is False
    assert progress.one_per_row
    assert [row["label"] for row in rows] == ["yes"] * 30
    assert rows[4]["x"] == "0.4"
    sent = [r.json() for r in platform.requests_to("POST", "/models/churn/1/infer")]
    assert {"x": 0.4, "colour": "c1"} in sent


async def test_batch_fallback_remembered(
    platform: FakePlatform, fake_client: PlexeClient, tmp_path: Path
) -> None:
    platform.set_build("churn", "1", status="completed", output=FAKE_OUTPUT)
    features = ServerFeatures(batch_predictions=False)
    source = write_fake_rows(tmp_path / "rows.csv", 5)

    await fake_predictor(fake_client, features).run(source)

    assert platform.count("POST", "/models/churn/1/predictions") == 0
    assert platform.count("POST", "/models/churn/1/infer") == 5


async def test_batch_falls_back_on_405(
    platform: FakePlatform, fake_client: PlexeClient, tmp_path: Path
) -> None:
    platform.set_build("churn", "1", status="completed", output=FAKE_OUTPUT)
    platform.respond(
        "POST", "/models/churn/1/predictions", status=405, json={"detail": "nope"}
    )
    source = write_fake_rows(tmp_path / "rows.csv", 4)
    features = ServerFeatures()

    progress = await fake_predictor(fake_client, features).run(source)

    assert progress.done == 4
    assert features.batch_predictions is False


async def test_batch_422_row_by_row(
    platform: FakePlatform, fake_client: PlexeClient, tmp_path: Path
) -> None:
    """A rejected chunk is sent again row by row; only the bad row gets the error."""
    platform.set_build("churn", "1", status="completed", output=FAKE_OUTPUT)
    rejection = {"error": {"message": "colour 'c9' is unknown", "field": "colour"}}
    platform.respond("POST", "/models/churn/1/predictions", status=422, json=rejection)
    platform.respond("POST", "/models/churn/1/infer", status=422, json=rejection)
    source = write_fake_rows(tmp_path / "rows.csv", 3)
    features = ServerFeatures()

    progress = await fake_predictor(fake_client, features).run(source)

    rows = read_csv(source.with_name("rows.predictions.csv"))
    errors = sorted(row["error"] for row in rows)
    assert errors == ["", "", "colour 'c9' is unknown"]
    assert progress.failed == 1
    assert features.batch_predictions is None


async def test_batch_model_not_found(
    platform: FakePlatform, fake_client: PlexeClient, tmp_path: Path
) -> None:
    """A 404 for the model, not the route, ends the run and records nothing."""
    source = write_fake_rows(tmp_path / "rows.csv", 3)
    features = ServerFeatures()

    with pytest.raises(NotFoundError, match="churn:1 not found"):
        await fake_predictor(fake_client, features).run(source)

    assert features.batch_predictions is None
    assert list(tmp_path.glob("*.predictions*")) == []


async def test_batch_server_error_retried(
    platform: FakePlatform,
    fake_client: PlexeClient,
    tmp_path: Path,
    fast_retries: None,
) -> None:
    platform.respond("POST", "/models/churn/1/predictions", status=503, text="busy")
    platform.respond("POST", "/models/churn/1/predictions", json=[FAKE_OUTPUT] * 3)
    source = write_fake_rows(tmp_path / "rows.csv", 3)

    progress = await fake_predictor(fake_client, ServerFeatures()).run(source)

    assert progress.done == 3
    assert platform.count("POST", "/models/churn/1/predictions") == 2


async def test_batch_server_error_gives_up(
    platform: FakePlatform,
    fake_client: PlexeClient,
    tmp_path: Path,
    fast_retries: None,
) -> None:
    platform.respond(
        "POST", "/models/churn/1/predictions", status=503, text="busy", times=None
    )
    source = write_fake_rows(tmp_path / "rows.csv", 3)

    with pytest.raises(Exception, match="Server error 503"):
        await fake_predictor(fake_client, ServerFeatures()).run(source)

    assert platform.count("POST", "/models/churn/1/predictions") == batch.MAX_ATTEMPTS


async def test_batch_cancel_keeps_rows(
    platform: FakePlatform, fake_client: PlexeClient, tmp_path: Path
) -> None:
    first = [FAKE_OUTPUT] * FIRST_CHUNK_ROWS
    platform.respond("POST", "/models/churn/1/predictions", json=first)
    platform.respond("POST", "/models/churn/1/predictions", delay=HELD_SECONDS)
    source = write_fake_rows(tmp_path / "rows.csv", 120)
    seen: list[BatchProgress] = []
    predictor = fake_predictor(fake_client, ServerFeatures(), seen)

    task = asyncio.create_task(predictor.run(source))
    await wait_for(
        lambda: platform.count("POST", "/models/churn/1/predictions") == 2,
        "the second batch request",
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    rows = read_csv(source.with_name("rows.predictions.csv"))
    assert len(rows) == FIRST_CHUNK_ROWS
    assert predictor.progress.done == FIRST_CHUNK_ROWS
    assert predictor.progress.total == 120
    assert seen[-1].done == FIRST_CHUNK_ROWS
