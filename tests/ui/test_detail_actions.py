"""The detail screen's actions: forget, cancel and delete, copy the id and a curl."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plexe_tui.store import Job
from plexe_tui.ui.curl import curl_command, local_engine_note
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
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
    read_jobs,
    settle,
    table_rows,
    toasts,
    wait_until,
    write_jobs,
)

# Seconds: how long a test waits for the engine to cancel a build.
CANCEL_TIMEOUT = 30.0
CURL_TIMEOUT = 30.0


def churn_job(server: str, **fields: Any) -> dict[str, Any]:
    """A completed build with a request that needs quoting in a shell."""
    table = job_table(
        "churn",
        "4",
        server,
        status="completed",
        goal="Predict churn for 'premium' customers [monthly] & $HOME",
        upload_id="upl-42",
        input_schema={"age": "int", "plan": "str"},
        output_schema={"churned": "bool"},
        metric="roc_auc",
        max_iterations=3,
        provider="openai/gpt-4o-mini",
    )
    table.update(fields)
    return table


# Forgetting


async def test_forget_asks_then_removes(
    platform: FakePlatform, config_dir: Path
) -> None:
    key = f"churn:4@{platform.url}"
    other = job_table(
        "prices",
        "1",
        platform.url,
        status="failed",
        created_at="2025-03-14T11:00:00+00:00",
    )
    write_jobs(config_dir, [churn_job(platform.url), other])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("f")
        await settle(pilot)
        await answer(pilot, "cancel")
        kept = app.book.get(key) is not None
        still_on_detail = isinstance(app.screen, DetailScreen)

        await pilot.press("f")
        await settle(pilot)
        await answer(pilot, "forget")
        screen = app.screen
        rows = table_rows(pilot)
        shown = toasts(pilot)

    assert kept
    assert still_on_detail
    assert isinstance(screen, JobsScreen)
    assert list(rows) == [f"prices:1@{platform.url}"]
    assert app.book.get(key) is None
    assert [job["model_name"] for job in read_jobs(config_dir)] == ["prices"]
    assert ("", "Forgot churn:4.", "information") in shown
    assert platform.requests_to("DELETE", "/models/churn/4") == []


async def test_forgotten_job_not_relisted(
    platform: FakePlatform, config_dir: Path
) -> None:
    """The server still lists a forgotten build; it does not come back as external."""
    platform.set_build("churn", "4", status="completed")
    write_jobs(config_dir, [churn_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("f")
        await settle(pilot)
        await answer(pilot, "forget")
        lists_before = platform.count("GET", "/models")
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: platform.count("GET", "/models") > lists_before,
            "the next list of models",
        )
        await settle(pilot)
        rows = table_rows(pilot)

    assert rows == {}
    assert app.book.get(f"churn:4@{platform.url}") is None


# Cancelling and deleting on the real engine


async def test_cancel_then_delete_on_engine(
    model_engine: EngineProcess, config_dir: Path
) -> None:
    upload = model_engine.upload(DATA_DIR / "breast_cancer.csv")
    version = model_engine.start_build(
        "doomed", goal="predict the diagnosis", upload_id=upload, max_iterations=20
    )
    key = f"doomed:{version}@{model_engine.base_url}"
    write_jobs(
        config_dir,
        [job_table("doomed", version, model_engine.base_url, status="pending")],
    )
    app = make_app(model_engine.base_url, config_dir, api_key=None)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        assert "cancel_build" in active_actions(screen)
        assert "delete" not in active_actions(screen)

        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        job = app.book.get(key)
        assert job is not None
        await wait_until(
            pilot, lambda: job.status == "cancelled", "the cancelled status"
        )
        assert "delete" in active_actions(screen)

        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        screen_after = app.screen
        shown = [message for _, message, _ in toasts(pilot)]

    gone = model_engine.client.get(f"/models/doomed/{version}")
    assert gone.status_code == 404
    assert isinstance(screen_after, JobsScreen)
    assert app.book.get(key) is None
    host = model_engine.base_url.removeprefix("http://")
    assert f"Deleted doomed:{version} on {host}." in shown
    assert [job for job in read_jobs(config_dir) if job["model_name"] == "doomed"] == []


async def test_delete_405_hides_action(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.respond(
        "DELETE", "/models/churn/4", status=405, json={"detail": "Method Not Allowed"}
    )
    write_jobs(config_dir, [churn_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        actions = active_actions(screen)
        shown = toasts(pilot)

    assert "delete" not in actions
    assert app.server_features.delete_models is False
    assert app.book.get(f"churn:4@{platform.url}") is not None
    assert shown == [
        (
            "Delete",
            "This server does not offer deleting models (405). Press f to forget "
            "churn:4 in this app.",
            "error",
        )
    ]


async def test_delete_404_explains(platform: FakePlatform, config_dir: Path) -> None:
    """The fake platform returns 404 to the DELETE, as the hosted one may."""
    write_jobs(config_dir, [churn_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        await pilot.press("d")
        await settle(pilot)
        await answer(pilot, "delete")
        actions = active_actions(screen)
        shown = [message for _, message, _ in toasts(pilot)]

    assert "delete" in actions
    assert shown == [
        "The server has no churn:4 to delete (Not found: DELETE /models/churn/4). "
        "Press f to forget it in this app."
    ]


# Copying


async def test_copy_id(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, [churn_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("c")
        await settle(pilot)
        shown = toasts(pilot)

    assert app.clipboard == "churn:4"
    assert shown == [("", "Copied the model id churn:4.", "information")]


async def test_copy_curl_reads_key(platform: FakePlatform, config_dir: Path) -> None:
    """The copied command contains no key, and running it starts the same build."""
    write_jobs(config_dir, [churn_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("u")
        await settle(pilot)
        command = app.clipboard
        shown = [message for _, message, _ in toasts(pilot)]

    assert FAKE_API_KEY not in command
    assert '-H "x-api-key: $PLEXE_API_KEY"' in command
    assert shown == [
        f"Copied a curl command that starts churn again on {platform.url}. It "
        "reads the API key from PLEXE_API_KEY."
    ]

    environment = {"PATH": os.environ["PATH"], "PLEXE_API_KEY": FAKE_API_KEY}
    result = subprocess.run(
        ["bash", "-c", command],
        env=environment,
        capture_output=True,
        text=True,
        timeout=CURL_TIMEOUT,
        check=True,
    )
    (sent,) = platform.requests_to("POST", "/models/churn")
    assert json.loads(result.stdout)["model_version"] == "1"
    assert result.stderr == ""
    assert sent.headers["x-api-key"] == FAKE_API_KEY
    assert sent.json() == {
        "goal": "Predict churn for 'premium' customers [monthly] & $HOME",
        "upload_id": "upl-42",
        "input_schema": {"age": "int", "plan": "str"},
        "output_schema": {"churned": "bool"},
        "metric": "roc_auc",
        "max_iterations": 3,
        "provider": "openai/gpt-4o-mini",
    }


async def test_copy_curl_keyless_server(
    platform: FakePlatform, config_dir: Path
) -> None:
    """A server this app reaches without a key gets no key header either."""
    platform.api_key = None
    write_jobs(config_dir, [churn_job(platform.url)])
    app = make_app(platform.url, config_dir, api_key=None)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("u")
        await settle(pilot)
        command = app.clipboard

    assert "x-api-key" not in command
    assert "PLEXE_API_KEY" not in command


def test_curl_local_engine_no_key() -> None:
    job = Job(model_name="cancer", model_version="2", server="local", goal="g")

    command = curl_command(job, "http://127.0.0.1:41234", with_key=False)

    assert command == (
        "curl -sS -X POST http://127.0.0.1:41234/models/cancer \\\n"
        "  -H 'content-type: application/json' \\\n"
        '  -d \'{"goal": "g"}\''
    )


@pytest.mark.parametrize("name", ["my model", "a/b"])
def test_curl_quotes_model_name(name: str) -> None:
    job = Job(model_name=name, model_version="1", server="x", goal="g")

    command = curl_command(job, "http://127.0.0.1:1", with_key=True)

    assert command.startswith("curl -sS -X POST http://127.0.0.1:1/models/")
    assert name not in command.splitlines()[0]


async def test_other_server_actions(platform: FakePlatform, config_dir: Path) -> None:
    """A build from another server offers every action, aimed at that server."""
    other = "http://127.0.0.1:9"
    write_jobs(config_dir, [churn_job(other)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_first_job(pilot)
        actions = active_actions(screen)
        await pilot.press("u")
        await settle(pilot)
        command = app.clipboard

    assert {"predict", "predict_file", "delete"} <= actions
    assert {"forget", "copy_id", "copy_curl", "resubmit"} <= actions
    assert command.startswith(f"curl -sS -X POST {other}/models/churn")
    # No profile names that server, so the app sends it no key.
    assert "x-api-key" not in command
    assert platform.requests_to("GET", "/models/churn/4") == []


# Enter on a question that loses something


@pytest.mark.parametrize(
    ("status", "key"),
    [("completed", "d"), ("building", "d"), ("completed", "f")],
)
async def test_enter_keeps_the_job(
    platform: FakePlatform, config_dir: Path, status: str, key: str
) -> None:
    """Enter right after `d` or `f` presses the safe choice, never the loss."""
    write_jobs(config_dir, [churn_job(platform.url, status=status)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        focused = app.focused
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen

    assert focused is not None
    assert focused.id == "cancel"
    assert isinstance(screen, DetailScreen)
    assert app.book.get(f"churn:4@{platform.url}") is not None
    assert platform.requests_to("DELETE", "/models/churn/4") == []


async def test_arrows_move_between_choices(
    platform: FakePlatform, config_dir: Path
) -> None:
    """Left and right walk the row of buttons, so a keyboard reaches each one."""
    write_jobs(config_dir, [churn_job(platform.url, status="completed")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("f")
        await settle(pilot)
        focused = []
        for key in ("left", "right"):
            await pilot.press(key)
            focused.append(app.focused.id if app.focused else None)
        await pilot.press("left", "enter")
        await settle(pilot)

    assert focused == ["forget", "cancel"]
    assert app.book.get(f"churn:4@{platform.url}") is None


async def test_copy_curl_local_job_notes_engine(
    platform: FakePlatform, config_dir: Path
) -> None:
    """A local job's command names this app's engine and notes that its port changes.

    Opening the detail of a local job starts the local engine, even while the
    app uses another server, so the command can reach the job's model.
    """
    write_jobs(config_dir, [churn_job("local")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_first_job(pilot)
        await pilot.press("u")
        await settle(pilot)
        command = app.clipboard
        shown = [message for _, message, _ in toasts(pilot)]
        engine = app.servers.existing_connection("local")
        assert engine is not None and engine.engine is not None
        engine_url = engine.engine.base_url

    first, second, third = command.splitlines()[:3]
    assert first == (
        f"# {engine_url} is the local engine of the plexe-tui that is running now."
    )
    assert second.startswith("# ")
    assert third.startswith(f"curl -sS -X POST {engine_url}/models/churn")
    assert "Its port changes at every start of the app." in shown[0]


def test_curl_note_is_a_shell_comment() -> None:
    """The note runs as a comment in bash, so the pasted text still works."""
    job = Job(model_name="cancer", model_version="2", server="local", goal="g")
    note = local_engine_note("http://127.0.0.1:41234", running=True)
    command = curl_command(job, "http://127.0.0.1:41234", with_key=False, note=note)

    checked = subprocess.run(
        ["bash", "-n", "-c", command], capture_output=True, text=True, check=False
    )

    assert command.startswith("# http://127.0.0.1:41234 is the local engine")
    assert "Its port changes at every start" in command
    assert checked.returncode == 0, checked.stderr
