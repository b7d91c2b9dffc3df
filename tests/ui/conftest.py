"""Fixtures for Pilot and snapshot tests of the UI."""

from __future__ import annotations

import fcntl
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FakePlatform
from tests.ui.helpers import DATA_DIR, write_config

# The snapshot server's address appears on screen ("Server: http://..."), so it
# must be the same on every run. 127.0.0.77 keeps it apart from servers that
# other tests bind on 127.0.0.1.
SNAPSHOT_HOST = "127.0.0.77"
SNAPSHOT_PORT = 48765

# Two runs of the suite on one machine need the same fixed addresses. The
# second waits this long for the first to release one, then fails.
ADDRESS_WAIT_SECONDS = 15 * 60


@contextmanager
def address_claimed(host: str, port: int) -> Iterator[None]:
    """Hold a machine-wide lock on a fixed test address while it is served.

    The servers are module-scoped, so another run waits at most for one test
    module, not for a whole run.
    """
    path = Path(tempfile.gettempdir()) / f"plexe-tui-tests-{host}-{port}.lock"
    deadline = time.monotonic() + ADDRESS_WAIT_SECONDS
    with path.open("a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Another test run kept {host}:{port} for "
                        f"{ADDRESS_WAIT_SECONDS} s; let it finish and run again."
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def served_at(server: FakePlatform, host: str, port: int) -> Iterator[FakePlatform]:
    """Serve a fake platform at a fixed address, claimed for this run."""
    with address_claimed(host, port):
        server.start(host=host, port=port)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The app's config folder, where it keeps jobs.toml."""
    folder = tmp_path / "config"
    folder.mkdir()
    return folder


@pytest.fixture(params=["dark", "light"])
def theme(request: pytest.FixtureRequest, config_dir: Path) -> str:
    """Each theme, chosen in config.toml as a user does; for snapshots of both."""
    name: str = request.param
    write_config(config_dir, f'theme = "{name}"\n')
    return name


@pytest.fixture
def dataset_file(tmp_path: Path) -> Path:
    """A copy of the breast cancer CSV in a folder of this test."""
    target = tmp_path / "data" / "breast_cancer.csv"
    target.parent.mkdir()
    shutil.copyfile(DATA_DIR / "breast_cancer.csv", target)
    return target


@pytest.fixture(scope="module")
def snapshot_server() -> Iterator[FakePlatform]:
    """A fake platform at a fixed address, for screens that show the server URL."""
    with served_at(FakePlatform(), SNAPSHOT_HOST, SNAPSHOT_PORT) as server:
        yield server


@pytest.fixture
def snapshot_platform(snapshot_server: FakePlatform) -> Iterator[FakePlatform]:
    """The fixed-address fake platform, with no state from other tests."""
    snapshot_server.reset()
    yield snapshot_server
    snapshot_server.reset()


@pytest.fixture(scope="session")
def model_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """A real local engine on a loopback port, shared by the tests that call models."""
    folder = tmp_path_factory.mktemp("ui-engine")
    server = EngineProcess(folder / "data", folder / "engine.log")
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def penguins_model(model_engine: EngineProcess) -> tuple[str, str]:
    """A completed penguin species classifier on `model_engine`: (name, version).

    Tests must not delete it; a test that deletes builds its own model.
    """
    upload = model_engine.upload(DATA_DIR / "penguins.csv")
    version = model_engine.start_build(
        "penguins", goal="predict the species", upload_id=upload, max_iterations=2
    )
    status = model_engine.wait_for("penguins", version)
    assert status["status"] == "completed", status

    # The first prediction loads the model; doing it here keeps that time out
    # of the tests' bounded waits.
    model = model_engine.client.get(f"/models/penguins/{version}").json()
    missing_values = dict.fromkeys(model["input_schema"])
    response = model_engine.client.post(
        f"/models/penguins/{version}/infer", json=missing_values
    )
    assert response.status_code == 200, response.text
    return "penguins", version


@pytest.fixture
def penguins_file(tmp_path: Path) -> Path:
    """A copy of the penguins CSV in a folder of this test."""
    target = tmp_path / "data" / "penguins.csv"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(DATA_DIR / "penguins.csv", target)
    return target


RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


def steady_cursor(run_before: RunBefore | None) -> RunBefore:
    """Return a run_before that then stops the cursors blinking, with them shown.

    A blinking cursor is visible or not depending on when the screenshot is
    taken, which a busy machine cannot control.
    """

    async def run(pilot: Pilot[Any]) -> None:
        if run_before is not None:
            await run_before(pilot)
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    return run


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """The plugin's snap_compare, with cursors that do not blink."""

    def compare(
        app: App[Any], *, run_before: RunBefore | None = None, **options: Any
    ) -> bool:
        return snap_compare(app, run_before=steady_cursor(run_before), **options)

    return compare


# A second fixed address, for the snapshot of a list with jobs on two servers.
SECOND_SNAPSHOT_HOST = "127.0.0.78"
SECOND_SNAPSHOT_PORT = 48766


@pytest.fixture(scope="module")
def second_snapshot_server() -> Iterator[FakePlatform]:
    """Another fake platform at a fixed address, with no API key."""
    platform = FakePlatform(api_key=None)
    with served_at(platform, SECOND_SNAPSHOT_HOST, SECOND_SNAPSHOT_PORT) as server:
        yield server


@pytest.fixture
def second_snapshot_platform(
    second_snapshot_server: FakePlatform,
) -> Iterator[FakePlatform]:
    """The second fixed-address fake platform, with no state from other tests."""
    second_snapshot_server.reset()
    yield second_snapshot_server
    second_snapshot_server.reset()
