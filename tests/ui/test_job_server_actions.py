"""Detail and list actions on a job of another server than the app's own.

Each action must reach the job's own server with that server's key, never the
app's current server, and never with another server's key.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.screens.pickers import DataFileTree, FilePickerScreen
from plexe_tui.ui.widgets.inference_form import InferenceForm
from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FAKE_API_KEY, FakePlatform
from tests.ui.helpers import (
    DATA_DIR,
    TERMINAL_SIZE,
    active_actions,
    answer,
    job_table,
    make_app,
    open_first_job,
    settle,
    static_text,
    toasts,
    wait_for_screen,
    wait_until,
    write_jobs,
)

SECOND_KEY = "second-server-key-0042"
SECOND_KEY_VARIABLE = "PLEXE_TEST_SECOND_KEY"


@pytest.fixture
def second_platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatform]:
    """Another fake platform with a key of its own, read from its variable."""
    monkeypatch.setenv(SECOND_KEY_VARIABLE, SECOND_KEY)
    with FakePlatform(api_key=SECOND_KEY) as server:
        yield server


def write_profile(config_dir: Path, name: str, base_url: str, variable: str) -> None:
    """Write a config.toml with one profile besides `local` and `hosted`."""
    path = config_dir / "config.toml"
    path.write_text(
        f'version = 1\n\n[profiles.{name}]\nbase_url = "{base_url}"\n'
        f'api_key_env = "{variable}"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)


def penguins_job(
    engine: EngineProcess, model: tuple[str, str], dataset: Path
) -> dict[str, Any]:
    return job_table(
        *model,
        engine.base_url,
        status="completed",
        goal="predict the species",
        dataset=str(dataset),
    )


def model_requests(platform: FakePlatform, name: str) -> list[str]:
    """Return the requests about model `name` that `platform` received."""
    return [
        f"{request.method} {request.path}"
        for request in platform.requests
        if request.path.startswith(f"/models/{name}")
    ]


# Calling a model on its own server


async def test_predicts_on_job_server(
    platform: FakePlatform,
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    penguins_file: Path,
    config_dir: Path,
) -> None:
    """The app uses the fake platform; the model lives on a real engine."""
    write_jobs(config_dir, [penguins_job(model_engine, penguins_model, penguins_file)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        form = screen.query_one(InferenceForm)
        await wait_until(pilot, lambda: form.display, "the inference form")
        await wait_until(
            pilot,
            lambda: screen.query_one("#description").display,
            "the description",
        )
        description = static_text(pilot, "#description")
        actions = active_actions(screen)

        await pilot.press("i")
        await pilot.press("enter")
        await wait_until(pilot, lambda: form.output is not None, "the prediction")

    assert "baseline" in description
    assert form.output["species"] in {"Adelie", "Chinstrap", "Gentoo"}
    assert {"predict", "predict_file", "delete"} <= actions
    assert model_requests(platform, "penguins") == []


async def test_batch_on_job_server(
    platform: FakePlatform,
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    penguins_file: Path,
    config_dir: Path,
) -> None:
    write_jobs(config_dir, [penguins_job(model_engine, penguins_model, penguins_file)])
    app = make_app(platform.url, config_dir)
    output = penguins_file.with_name("penguins.predictions.csv")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        form = screen.query_one(InferenceForm)
        await wait_until(pilot, lambda: form.display, "the inference form")
        await pilot.press("b")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, FilePickerScreen)
                and bool(app.screen.query_one(DataFileTree).root.children)
            ),
            "the file picker's folder",
        )
        picker = app.screen
        assert isinstance(picker, FilePickerScreen)
        picker.dismiss(penguins_file)
        await wait_until(
            pilot,
            lambda: "Written to" in static_text(pilot, "#batch-status"),
            "the end of the batch",
        )

    with output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 344
    assert model_requests(platform, "penguins") == []


# Polling, cancelling and deleting on the job's server


async def test_cancel_delete_on_job_server(
    platform: FakePlatform, model_engine: EngineProcess, config_dir: Path
) -> None:
    upload = model_engine.upload(DATA_DIR / "breast_cancer.csv")
    version = model_engine.start_build(
        "remote-doomed",
        goal="predict the diagnosis",
        upload_id=upload,
        max_iterations=20,
    )
    key = f"remote-doomed:{version}@{model_engine.base_url}"
    write_jobs(
        config_dir,
        [job_table("remote-doomed", version, model_engine.base_url, status="pending")],
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        assert "cancel_build" in active_actions(screen)
        assert "refresh" in active_actions(screen)

        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        job = app.book.get(key)
        assert job is not None
        await wait_until(
            pilot, lambda: job.status == "cancelled", "the cancelled status"
        )
        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        screen_after = app.screen
        shown = [message for _, message, _ in toasts(pilot)]

    gone = model_engine.client.get(f"/models/remote-doomed/{version}")
    assert gone.status_code == 404
    assert isinstance(screen_after, JobsScreen)
    host = model_engine.base_url.removeprefix("http://")
    assert f"Asked {host} to cancel remote-doomed:{version}." in shown
    assert f"Deleted remote-doomed:{version} on {host}." in shown
    assert model_requests(platform, "remote-doomed") == []


async def test_refresh_sends_job_server_key(
    platform: FakePlatform, second_platform: FakePlatform, config_dir: Path
) -> None:
    """`r` polls the job's server with its profile's key, not the app's key."""
    write_profile(config_dir, "second", second_platform.url, SECOND_KEY_VARIABLE)
    second_platform.set_build("churn", "1", status="building")
    write_jobs(
        config_dir, [job_table("churn", "1", second_platform.url, status="building")]
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        before = second_platform.count("GET", "/models/churn/1/status")
        second_platform.set_build("churn", "1", status="completed")
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: second_platform.count("GET", "/models/churn/1/status") > before,
            "the status request",
        )
        await settle(pilot)
        job = app.book.get(f"churn:1@{second_platform.url}")
        line = static_text(pilot, "#poll-line")

    keys = {request.headers.get("x-api-key") for request in second_platform.requests}
    assert isinstance(screen, DetailScreen)
    assert job is not None
    assert job.status == "completed"
    assert keys == {SECOND_KEY}
    assert FAKE_API_KEY not in keys
    assert "not polled" not in line
    assert model_requests(platform, "churn") == []


async def test_delete_405_hides_only_there(
    platform: FakePlatform, second_platform: FakePlatform, config_dir: Path
) -> None:
    """A server without DELETE hides it for its own jobs, not for other servers'."""
    write_profile(config_dir, "second", second_platform.url, SECOND_KEY_VARIABLE)
    second_platform.respond(
        "DELETE", "/models/churn/1", status=405, json={"detail": "Method Not Allowed"}
    )
    write_jobs(
        config_dir,
        [
            job_table("churn", "1", second_platform.url, status="completed"),
            job_table(
                "prices",
                "1",
                platform.url,
                status="completed",
                created_at="2025-03-14T11:00:00+00:00",
            ),
        ],
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        churn_actions = active_actions(screen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("j", "enter")
        prices_screen = await wait_for_screen(pilot, DetailScreen)
        prices_actions = active_actions(prices_screen)

    (sent,) = second_platform.requests_to("DELETE", "/models/churn/1")
    assert sent.headers.get("x-api-key") == SECOND_KEY
    assert "delete" not in churn_actions
    assert prices_screen.key == f"prices:1@{platform.url}"
    assert "delete" in prices_actions
    assert platform.requests_to("DELETE", "/models/churn/1") == []


# Copying a curl command for the job's server


async def test_curl_names_profile_variable(
    platform: FakePlatform, second_platform: FakePlatform, config_dir: Path
) -> None:
    write_profile(config_dir, "second", second_platform.url, SECOND_KEY_VARIABLE)
    write_jobs(
        config_dir, [job_table("churn", "1", second_platform.url, status="completed")]
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("u")
        await settle(pilot)
        command = app.clipboard
        shown = [message for _, message, _ in toasts(pilot)]

    assert command.startswith(f"curl -sS -X POST {second_platform.url}/models/churn")
    assert f'-H "x-api-key: ${SECOND_KEY_VARIABLE}"' in command
    assert SECOND_KEY not in command
    assert shown == [
        f"Copied a curl command that starts churn again on {second_platform.url}. "
        f"It reads the API key from {SECOND_KEY_VARIABLE}."
    ]


async def test_curl_without_profile_has_no_key(
    platform: FakePlatform, config_dir: Path
) -> None:
    """The app sends no key to a server no profile names, and neither does curl."""
    other = "http://127.0.0.1:9"
    write_jobs(config_dir, [job_table("churn", "1", other, status="completed")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("u")
        await settle(pilot)
        command = app.clipboard
        shown = [message for _, message, _ in toasts(pilot)]

    assert command.startswith(f"curl -sS -X POST {other}/models/churn")
    assert "x-api-key" not in command
    assert shown == [
        f"Copied a curl command that starts churn again on {other}. It sends no "
        "API key: no profile in config.toml names that server."
    ]


# Lineage across servers


async def test_lineage_names_other_server(
    platform: FakePlatform, second_platform: FakePlatform, config_dir: Path
) -> None:
    """A build resubmitted to another server has the same name:version as its
    source, so the links name the server where it differs."""
    source = job_table(
        "churn",
        "1",
        platform.url,
        status="completed",
        created_at="2025-03-14T10:00:00+00:00",
    )
    child = job_table(
        "churn",
        "1",
        second_platform.url,
        status="completed",
        parent=f"churn:1@{platform.url}",
    )
    write_jobs(config_dir, [source, child])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        parent_links = [
            str(link.label) for link in screen.query("#lineage-from JobLink")
        ]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("j", "enter")
        source_screen = await wait_for_screen(pilot, DetailScreen)
        child_links = [
            str(link.label) for link in source_screen.query("#lineage-as JobLink")
        ]

    assert screen.key == f"churn:1@{second_platform.url}"
    assert parent_links == [f"churn:1 on {platform.url.removeprefix('http://')}"]
    assert child_links == [f"churn:1 on {second_platform.url.removeprefix('http://')}"]
