"""The build form's Server field: which servers it offers, and builds sent there.

The app's own server is a fake platform or a real local engine. The other
server is the other of the two, or a second fake platform with its own key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Select

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.pickers import FilePickerScreen
from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FAKE_API_KEY, FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    field_error,
    field_note,
    job_table,
    make_app,
    open_new_form,
    settle,
    submit_status,
    wait_for_screen,
    wait_until,
    write_jobs,
)

SECOND_KEY = "second-server-key-0042"
SECOND_KEY_VARIABLE = "PLEXE_TEST_SECOND_KEY"
ENGINE_KEY_VARIABLE = "PLEXE_TEST_ENGINE_KEY"
# Seconds to wait for a local engine the app starts itself.
ENGINE_START_SECONDS = 60.0


@pytest.fixture
def second_platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatform]:
    """Another fake platform with a key of its own, read from its variable."""
    monkeypatch.setenv(SECOND_KEY_VARIABLE, SECOND_KEY)
    monkeypatch.delenv(ENGINE_KEY_VARIABLE, raising=False)
    with FakePlatform(api_key=SECOND_KEY) as server:
        yield server


def write_profiles(config_dir: Path, profiles: dict[str, tuple[str, str]]) -> None:
    """Write a config.toml with these profiles: name to (base_url, key variable)."""
    lines = ["version = 1", ""]
    for name, (base_url, variable) in profiles.items():
        lines += [
            f"[profiles.{name}]",
            f'base_url = "{base_url}"',
            f'api_key_env = "{variable}"',
            "",
        ]
    path = config_dir / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)


def cancer_job(server: str, dataset: Path | str, **fields: Any) -> dict[str, Any]:
    table = job_table(
        "moved-cancer",
        "3",
        server,
        status="completed",
        goal="predict the diagnosis",
        dataset=str(dataset),
        max_iterations=1,
    )
    table.update(fields)
    return table


async def open_resubmit(pilot: Pilot[PlexeApp]) -> BuildScreen:
    await settle(pilot)
    await pilot.press("s")
    return await wait_for_screen(pilot, BuildScreen)


async def choose_server(pilot: Pilot[PlexeApp], server: str) -> None:
    """Choose a server in the Server field from the keyboard."""
    screen = pilot.app.screen
    assert isinstance(screen, BuildScreen)
    select = screen.query_one("#server", Select)
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    servers = [option.server for option in screen.options]
    steps = servers.index(server) - servers.index(screen.server)
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.server == server, f"the server {server}")


async def submit(pilot: Pilot[PlexeApp], timeout: float = 10.0) -> DetailScreen:
    await pilot.press("ctrl+s")
    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, DetailScreen),
        "the new build's detail",
        timeout=timeout,
    )
    return await wait_for_screen(pilot, DetailScreen)


# The choices


async def test_offers_profiles_and_history(
    platform: FakePlatform, second_platform: FakePlatform, config_dir: Path
) -> None:
    other = "http://127.0.0.1:9"
    write_profiles(config_dir, {"second": (second_platform.url, SECOND_KEY_VARIABLE)})
    write_jobs(config_dir, [job_table("old", "1", other, status="completed")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_new_form(pilot)
        options = [(option.server, option.label) for option in screen.options]
        chosen = screen.server

    assert options == [
        (platform.url, f"{platform.url} (in use)"),
        ("local", "local · local engine on this machine"),
        ("https://api.plexe.ai", "hosted · https://api.plexe.ai"),
        (second_platform.url, f"second · {second_platform.url}"),
        (other, f"{other} (job history)"),
    ]
    assert chosen == platform.url


async def test_resubmit_defaults_to_job_server(
    platform: FakePlatform,
    second_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
) -> None:
    write_profiles(config_dir, {"second": (second_platform.url, SECOND_KEY_VARIABLE)})
    write_jobs(config_dir, [cancer_job(second_platform.url, dataset_file)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_resubmit(pilot)
        resubmit_server = screen.server
        note = field_note(pilot, "server")

    assert resubmit_server == second_platform.url
    assert note is None


async def test_note_names_missing_key(
    platform: FakePlatform, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile whose key variable is unset, and a server no profile names."""
    monkeypatch.delenv(ENGINE_KEY_VARIABLE, raising=False)
    write_profiles(config_dir, {"bench": ("http://127.0.0.1:8", ENGINE_KEY_VARIABLE)})
    write_jobs(config_dir, [job_table("old", "1", "http://127.0.0.1:9")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await choose_server(pilot, "http://127.0.0.1:8")
        profile_note = field_note(pilot, "server")
        await choose_server(pilot, "http://127.0.0.1:9")
        history_note = field_note(pilot, "server")

    assert profile_note == (
        f"Profile bench has no API key ({ENGINE_KEY_VARIABLE} is not set). A "
        "server that needs one rejects the build."
    )
    assert history_note == (
        "No profile in config.toml names this server, so it gets no API key. Add "
        "a profile with its base_url to send one."
    )


# Resubmitting to another server


async def test_resubmit_to_engine_uploads_file(
    platform: FakePlatform,
    model_engine: EngineProcess,
    config_dir: Path,
    dataset_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A build of the fake platform goes to a real engine, with its file."""
    monkeypatch.delenv(ENGINE_KEY_VARIABLE, raising=False)
    write_profiles(config_dir, {"bench": (model_engine.base_url, ENGINE_KEY_VARIABLE)})
    write_jobs(config_dir, [cancer_job(platform.url, dataset_file)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_resubmit(pilot)
        await choose_server(pilot, model_engine.base_url)
        changes = str(screen.query_one("#changes").render())
        detail = await submit(pilot)
        job = app.book.get(detail.key)

    assert job is not None
    assert job.server == model_engine.base_url
    assert job.parent == f"moved-cancer:3@{platform.url}"
    assert job.dataset == str(dataset_file)
    assert f"Server: {platform.url} → {model_engine.base_url}" in changes
    status = model_engine.status("moved-cancer", job.model_version)
    assert status["model_name"] == "moved-cancer"
    assert platform.requests_to("POST", "/models/moved-cancer") == []
    assert platform.requests_to("POST", "/uploads") == []


async def test_resubmit_to_platform_sends_its_key(
    model_engine: EngineProcess,
    second_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
) -> None:
    """A build of the engine goes to a platform, with that profile's key only."""
    write_profiles(config_dir, {"second": (second_platform.url, SECOND_KEY_VARIABLE)})
    write_jobs(config_dir, [cancer_job(model_engine.base_url, dataset_file)])
    app = make_app(model_engine.base_url, config_dir, api_key=None)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        await choose_server(pilot, second_platform.url)
        detail = await submit(pilot)
        job = app.book.get(detail.key)
        followed = app.servers.get(second_platform.url) is not None

    (build,) = second_platform.requests_to("POST", "/models/moved-cancer")
    (upload,) = second_platform.requests_to("POST", "/uploads")
    keys = {
        request.headers.get("x-api-key")
        for request in second_platform.requests
        if not request.path.startswith("/storage/")
    }
    assert job is not None
    assert job.server == second_platform.url
    assert job.upload_id == build.json()["upload_id"]
    assert upload.json()["filename"] == "breast_cancer.csv"
    assert keys == {SECOND_KEY}
    assert followed


async def test_upload_id_needs_file_elsewhere(
    platform: FakePlatform,
    second_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
) -> None:
    """An upload on the source server cannot feed a build elsewhere, and the
    form explains why and requests the file."""
    write_profiles(config_dir, {"second": (second_platform.url, SECOND_KEY_VARIABLE)})
    gone = dataset_file.with_name("gone.csv")
    write_jobs(config_dir, [cancer_job(platform.url, gone, upload_id="upl-42")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_resubmit(pilot)
        dataset_before = screen.values().dataset
        await choose_server(pilot, second_platform.url)
        error = field_error(pilot, "dataset")
        disabled = screen.query_one("#submit", Button).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = submit_status(pilot)

        await choose_server(pilot, platform.url)
        error_back_home = field_error(pilot, "dataset")
        await choose_server(pilot, second_platform.url)
        await enter_value(pilot, "dataset", str(dataset_file))
        error_with_file = field_error(pilot, "dataset")
        detail = await submit(pilot)
        job = app.book.get(detail.key)

    assert dataset_before == "upl-42"
    assert error == (
        f"upl-42 is an upload on {platform.url}, which {second_platform.url} "
        f"cannot read, and its file {gone} is gone. Press ctrl+o to choose the "
        "file, and it is uploaded there; or build on the upload's server."
    )
    assert disabled
    assert status == "Fix the fields marked in red (Dataset), then submit again."
    assert error_back_home is None
    assert error_with_file is None
    assert job is not None
    assert job.server == second_platform.url
    assert second_platform.count("POST", "/uploads") == 1
    assert platform.requests_to("POST", "/models/moved-cancer") == []


async def test_draft_keeps_server(
    platform: FakePlatform, second_platform: FakePlatform, config_dir: Path
) -> None:
    write_profiles(config_dir, {"second": (second_platform.url, SECOND_KEY_VARIABLE)})
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await choose_server(pilot, second_platform.url)
        await enter_value(pilot, "model_name", "churn")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#keep")
        await settle(pilot)

    restarted = make_app(platform.url, config_dir)
    async with restarted.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_new_form(pilot)
        restored = screen.server
        hint = str(screen.query_one("#provider-hint").render())

    assert restored == second_platform.url
    assert "does not use it" not in hint


async def test_local_profile_starts_engine(
    platform: FakePlatform, config_dir: Path, tmp_path: Path, dataset_file: Path
) -> None:
    """The app uses a fake platform; a build sent to `local` starts an engine."""
    app = make_app(
        platform.url,
        config_dir,
        engine_data_dir=tmp_path / "engine",
        log_dir=tmp_path / "log",
    )
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await choose_server(pilot, "local")
        note = field_note(pilot, "server")
        await enter_value(pilot, "model_name", "local-cancer")
        await enter_value(pilot, "goal", "predict the diagnosis")
        await enter_value(pilot, "dataset", str(dataset_file))
        await enter_value(pilot, "max_iterations", "1")
        detail = await submit(pilot, timeout=ENGINE_START_SECONDS)
        job = app.book.get(detail.key)
        link = app.servers.get("local")
        engine = link.connection.engine if link is not None else None
        running = engine is not None and not engine.exited

    assert note == "The local engine is not running; submitting starts it."
    assert job is not None
    assert job.server == "local"
    assert running
    assert engine is not None
    assert engine.exited
    assert platform.requests_to("POST", "/models/local-cancer") == []
    assert FAKE_API_KEY not in str(job)


async def test_browse_starts_in_missing_file_folder(
    platform: FakePlatform,
    second_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
) -> None:
    """ctrl+o looks for the file where the source build's file used to be."""
    write_profiles(config_dir, {"second": (second_platform.url, SECOND_KEY_VARIABLE)})
    gone = dataset_file.with_name("gone.csv")
    write_jobs(config_dir, [cancer_job(platform.url, gone, upload_id="upl-42")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        await choose_server(pilot, second_platform.url)
        await pilot.press("ctrl+o")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, FilePickerScreen),
            "the file picker",
        )
        picker = app.screen
        assert isinstance(picker, FilePickerScreen)
        start = picker.start
        # The picker's tree loader ends with it, so no settle after this.
        picker.dismiss(None)
        await pilot.pause()

    assert start == dataset_file.parent
