"""The app's log file: rotation, and API keys kept out of it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plexe_tui.app_logging import (
    APP_LOG_NAME,
    LOG_BACKUP_COUNT,
    LOG_MAX_BYTES,
    MASK,
    SecretFilter,
    setup_app_logging,
)
from plexe_tui.engine.launcher import EngineStartError, LocalEngine
from plexe_tui.store.config import choose_server, load_config
from plexe_tui.ui.app import AppSettings, create_app
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    QUIET_POLL_INTERVAL,
    TERMINAL_SIZE,
    fixed_clock,
    job_table,
    settle,
    write_jobs,
)

KEY = "sk-test-9f8e7d6c5b4a"
CONFIG_KEY = "cfg-key-0a1b2c3d4e5f"


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    """A log folder; the handler that `setup_app_logging` adds is removed after."""
    folder = tmp_path / "log"
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    yield folder
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    return folder


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("test", logging.WARNING, __file__, 1, message, args, None)


def read_logs(log_dir: Path) -> str:
    return "".join(
        path.read_text(encoding="utf-8") for path in sorted(log_dir.glob("*.log*"))
    )


# The filter


def test_filter_masks_secret_in_message() -> None:
    secret_filter = SecretFilter([KEY])
    entry = record(f"rejected key {KEY} twice: {KEY}")

    assert secret_filter.filter(entry)

    assert entry.getMessage() == f"rejected key {MASK} twice: {MASK}"


def test_filter_masks_secret_in_args() -> None:
    secret_filter = SecretFilter([KEY])
    entry = record("server said %s (status %d)", f"bad key {KEY}", 401)

    secret_filter.filter(entry)

    assert entry.getMessage() == f"server said bad key {MASK} (status 401)"


def test_filter_masks_exception_text() -> None:
    secret_filter = SecretFilter([KEY])
    try:
        raise ValueError(f"key {KEY} refused")
    except ValueError:
        entry = logging.LogRecord(
            "test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )

    secret_filter.filter(entry)
    text = logging.Formatter().format(entry)

    assert KEY not in text
    assert f"ValueError: key {MASK} refused" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x-api-key: abc123def", f"x-api-key: {MASK}"),
        ("X-API-Key=abc123def", f"X-API-Key={MASK}"),
        ("{'x-api-key': 'abc123def'}", f"{{'x-api-key': '{MASK}'}}"),
        ('{"x-api-key": "abc123def"}', f'{{"x-api-key": "{MASK}"}}'),
        ("Authorization: Bearer abc123def", f"Authorization: Bearer {MASK}"),
        (
            "('authorization', 'Bearer abc123def')",
            f"('authorization', 'Bearer {MASK}')",
        ),
        ("authorization: Basic dXNlcjpwYXNz", f"authorization: Basic {MASK}"),
        (
            "headers: x-api-key: one, content-type: text/csv",
            f"headers: x-api-key: {MASK}, content-type: text/csv",
        ),
    ],
)
def test_filter_masks_key_headers(text: str, expected: str) -> None:
    secret_filter = SecretFilter()
    entry = record("%s", text)

    secret_filter.filter(entry)

    assert entry.getMessage() == expected


def test_filter_leaves_other_text() -> None:
    secret_filter = SecretFilter([KEY])
    text = "Status of churn:2 failed: the server is busy; x-request-id: 42"
    entry = record("%s", text)

    secret_filter.filter(entry)

    assert entry.getMessage() == text


def test_filter_ignores_very_short_secret() -> None:
    secret_filter = SecretFilter(["ab"])
    entry = record("about a table")

    secret_filter.filter(entry)

    assert entry.getMessage() == "about a table"


def test_filter_masks_longest_secret_whole() -> None:
    secret_filter = SecretFilter(["abcd", "abcdefgh"])
    entry = record("key abcdefgh")

    secret_filter.filter(entry)

    assert entry.getMessage() == f"key {MASK}"


# The file


def test_log_file_in_log_dir(log_dir: Path) -> None:
    setup_app_logging(log_dir, [KEY])
    logging.getLogger("plexe_tui.test").info("started with %s", KEY)

    text = (log_dir / APP_LOG_NAME).read_text(encoding="utf-8")
    assert "INFO plexe_tui.test: started with ***" in text
    assert KEY not in text


def test_log_rotates(log_dir: Path) -> None:
    setup_app_logging(log_dir)
    logger = logging.getLogger("plexe_tui.test")
    line = "x" * 1000
    # Enough lines to fill the current file and every backup more than once.
    for number in range((LOG_BACKUP_COUNT + 2) * LOG_MAX_BYTES // 1000):
        logger.info("%d %s", number, line)

    files = sorted(path.name for path in log_dir.iterdir())
    expected = [APP_LOG_NAME] + [
        f"{APP_LOG_NAME}.{n}" for n in range(1, LOG_BACKUP_COUNT + 1)
    ]
    assert files == expected
    for path in log_dir.iterdir():
        assert path.stat().st_size <= LOG_MAX_BYTES


# A failing request


async def test_keys_not_logged_after_failed_request(
    platform: FakePlatform,
    config_dir: Path,
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that echoes the key in its error must not put it in the log."""
    monkeypatch.setenv("PLEXE_API_KEY", KEY)
    (config_dir / "config.toml").write_text(
        f'[profiles.work]\nbase_url = "{platform.url}"\n'
        f'api_key_env = "WORK_KEY"\napi_key = "{CONFIG_KEY}"\n',
        encoding="utf-8",
    )
    loaded = load_config(config_dir / "config.toml")
    choice = choose_server(loaded.settings, "work", None, {"PLEXE_API_KEY": KEY})
    assert choice.api_key == CONFIG_KEY
    setup_app_logging(log_dir, loaded.settings.api_keys({"PLEXE_API_KEY": KEY}))

    platform.api_key = CONFIG_KEY
    write_jobs(config_dir, [job_table("churn", "2", platform.url)])
    path = "/models/churn/2/status"
    platform.respond(
        "GET",
        path,
        status=500,
        json={"error": {"message": f"upstream refused x-api-key {CONFIG_KEY}"}},
    )
    platform.respond(
        "GET",
        path,
        status=400,
        json={"error": {"message": f"{KEY} and {CONFIG_KEY} are both invalid"}},
    )
    settings = AppSettings(
        base_url=choice.base_url,
        api_key=choice.api_key,
        config_dir=config_dir,
        log_dir=log_dir,
        poll_interval=QUIET_POLL_INTERVAL,
        clock=fixed_clock,
        config=loaded.settings,
    )
    app = create_app(settings)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert platform.count("GET", path) == 2
    text = read_logs(log_dir)
    assert "upstream refused" in text
    assert "are both invalid" in text
    assert KEY not in text
    assert CONFIG_KEY not in text
    for toast in app._notifications:
        assert KEY not in toast.message
        assert CONFIG_KEY not in toast.message


# The engine's log


@pytest.mark.slow
def test_engine_error_read_from_log(tmp_path: Path) -> None:
    """A second engine on the same folder fails, and its log names the reason."""
    data_dir = tmp_path / "engine"
    first = LocalEngine(data_dir, tmp_path / "first.log")
    second = LocalEngine(data_dir, tmp_path / "second.log")
    try:
        first.start()
        first.wait_ready()
        second.start()
        with pytest.raises(EngineStartError) as caught:
            second.wait_ready()
    finally:
        second.stop()
        first.stop()

    message = str(caught.value)
    assert "exited with status 1" in message
    assert "engine not started" in message
    assert str(tmp_path / "second.log") in message
    assert "engine starting on socket fd" in (tmp_path / "first.log").read_text()
