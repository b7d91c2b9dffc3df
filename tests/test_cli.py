"""The command line, run as a user runs it: in a child process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from plexe_tui import __version__
from plexe_tui.cli import key_source_text
from plexe_tui.store.config import ServerChoice

# Seconds to wait for a child process; generous for a cold start of the engine.
START_TIMEOUT = 60.0

# Python that hides the engine's packages, as if the `local` extra were missing.
HIDE_ENGINE = """
import sys

# A None entry in sys.modules makes both import and find_spec report the
# package as missing.
for name in ("fastapi", "uvicorn", "sklearn", "pandas"):
    sys.modules[name] = None

from plexe_tui.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def run_cli(*args: str, home: Path, env: dict[str, str] | None = None):
    environment = {**os.environ, "HOME": str(home), **(env or {})}
    for name in (
        "PLEXE_API_KEY",
        "PLEXE_BASE_URL",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
    ):
        if env is None or name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "plexe_tui", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=START_TIMEOUT,
    )


def test_version_prints_version(tmp_path: Path) -> None:
    result = run_cli("--version", home=tmp_path)

    assert result.returncode == 0
    assert __version__ in result.stdout


def test_help_explains_key_and_server(tmp_path: Path) -> None:
    result = run_cli("--help", home=tmp_path)

    assert result.returncode == 0
    assert "PLEXE_API_KEY" in result.stdout
    assert "PLEXE_BASE_URL" in result.stdout
    assert "--base-url" in result.stdout
    assert "engine" in result.stdout
    assert "jobs.toml" in result.stdout


def test_engine_help_lists_options(tmp_path: Path) -> None:
    result = run_cli("engine", "--help", home=tmp_path)

    assert result.returncode == 0
    for option in ("--host", "--port", "--data-dir"):
        assert option in result.stdout


def test_missing_local_extra_exits_2(tmp_path: Path) -> None:
    environment = {**os.environ, "HOME": str(tmp_path)}
    environment.pop("PLEXE_API_KEY", None)
    environment.pop("PLEXE_BASE_URL", None)

    result = subprocess.run(
        [sys.executable, "-c", HIDE_ENGINE],
        capture_output=True,
        text=True,
        env=environment,
        timeout=START_TIMEOUT,
    )

    assert result.returncode == 2
    assert "pip install 'plexe-tui[local]'" in result.stderr
    assert "PLEXE_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "the engine exited before it was ready"
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the engine did not answer {url}/health in time")


@pytest.mark.slow
def test_engine_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plexe_tui",
            "engine",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "engine"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=START_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "engine").is_dir()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not-a-url", "use http:// or https://"),
        ("ftp://127.0.0.1:1", "use http:// or https://"),
        (" ", "use http:// or https://"),
        ("http://127.0.0.1:99999", "the port must be from 0 to 65535"),
    ],
)
def test_invalid_base_url_exits_2(tmp_path: Path, url: str, expected: str) -> None:
    result = run_cli("--base-url", url, home=tmp_path)

    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_env_base_url_named(tmp_path: Path) -> None:
    result = run_cli(home=tmp_path, env={"PLEXE_BASE_URL": "not-a-url"})

    assert result.returncode == 2
    assert "PLEXE_BASE_URL" in result.stderr


def test_base_url_trailing_slash_dropped() -> None:
    from plexe_tui.cli import check_base_url

    assert check_base_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"


def test_engine_port_out_of_range(tmp_path: Path) -> None:
    result = run_cli("engine", "--port", "99999", home=tmp_path)

    assert result.returncode == 2
    assert "port 99999 is not between 0 and 65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_engine_data_dir_file_rejected(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data.json"
    not_a_folder.write_text("[]")

    result = run_cli("engine", "--data-dir", str(not_a_folder), home=tmp_path)

    assert result.returncode == 2
    assert "is a file; give a folder" in result.stderr


# Settings and profiles

SECRET = "sk-cli-secret-8c7b6a5d4e"


def write_home_config(home: Path, text: str) -> Path:
    path = home / ".config" / "plexe-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_locate_prints_paths(tmp_path: Path) -> None:
    result = run_cli("locate", home=tmp_path)

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"settings: {tmp_path}/.config/plexe-tui/config.toml",
        f"jobs: {tmp_path}/.config/plexe-tui/jobs.toml",
        f"engine data: {tmp_path}/.local/share/plexe-tui/engine",
        f"logs: {tmp_path}/.local/state/plexe-tui/log",
    ]
    assert not (tmp_path / ".config").exists()


def test_config_defaults_to_local(tmp_path: Path) -> None:
    result = run_cli("config", home=tmp_path)

    assert result.returncode == 0
    assert "profile: local" in result.stdout
    assert "server: local engine" in result.stdout


def test_config_hosted_key_masked(tmp_path: Path) -> None:
    result = run_cli("config", home=tmp_path, env={"PLEXE_API_KEY": SECRET})

    assert result.returncode == 0
    assert "profile: hosted" in result.stdout
    assert "server: https://api.plexe.ai" in result.stdout
    assert "api key: *** (from $PLEXE_API_KEY)" in result.stdout
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("option", ["--server", "-s"])
def test_server_option_picks_profile(tmp_path: Path, option: str) -> None:
    write_home_config(
        tmp_path,
        f'[profiles.work]\nbase_url = "http://127.0.0.1:9000"\napi_key = "{SECRET}"\n',
    )

    result = run_cli(option, "work", "config", home=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "profile: work" in result.stdout
    assert "server: http://127.0.0.1:9000" in result.stdout
    assert "api key: *** (from api_key of [profiles.work])" in result.stdout
    assert SECRET not in result.stdout


def test_base_url_wins_over_profile(tmp_path: Path) -> None:
    write_home_config(tmp_path, '[profiles.work]\nbase_url = "http://127.0.0.1:9000"\n')

    result = run_cli(
        "--server",
        "work",
        "--base-url",
        "http://127.0.0.1:9001",
        "config",
        home=tmp_path,
    )

    assert "server: http://127.0.0.1:9001" in result.stdout


def test_default_profile_from_file(tmp_path: Path) -> None:
    write_home_config(
        tmp_path,
        'default_profile = "work"\n[profiles.work]\nbase_url = "http://127.0.0.1:9000"\n',
    )

    result = run_cli("config", home=tmp_path, env={"PLEXE_API_KEY": SECRET})

    assert "profile: work" in result.stdout
    assert "api key: *** (from $PLEXE_API_KEY)" in result.stdout


def test_unknown_server_exits_2(tmp_path: Path) -> None:
    result = run_cli("--server", "nowhere", home=tmp_path)

    assert result.returncode == 2
    assert "Unknown server profile 'nowhere'" in result.stderr
    assert "hosted, local" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_reports_bad_file(tmp_path: Path) -> None:
    path = write_home_config(tmp_path, "poll_interval = 'fast'\n")
    path.chmod(0o644)

    result = run_cli("config", home=tmp_path)

    assert result.returncode == 0
    assert "poll_interval" in result.stderr
    assert f"chmod 600 {path}" in result.stderr


def test_engine_help_lists_log_file(tmp_path: Path) -> None:
    result = run_cli("engine", "--help", home=tmp_path)

    assert "--log-file" in result.stdout


def file_tree(root: Path) -> dict[str, bytes | None]:
    """Return every path under `root` with its content; None marks a folder."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    "args", [("config",), ("locate",), ("--help",), ("--server", "work", "config")]
)
def test_read_only_commands_change_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A typo in config.toml is reported, and the file stays where it is."""
    path = write_home_config(tmp_path, '[profiles.work\nbase_url = "local"\n')
    before = file_tree(tmp_path)

    result = run_cli(*args, home=tmp_path)

    assert file_tree(tmp_path) == before
    assert path.exists()
    assert "Traceback" not in result.stderr
    assert "moved" not in result.stderr.lower()


def test_config_names_unreadable_file(tmp_path: Path) -> None:
    path = write_home_config(tmp_path, '[profiles.work\nbase_url = "local"\n')

    result = run_cli("config", home=tmp_path)

    assert result.returncode == 1
    assert result.stderr.count(str(path)) == 1
    assert "line 1" in result.stderr
    assert "profile: local" in result.stdout


def test_config_lists_what_app_ignores(tmp_path: Path) -> None:
    """The theme and key remaps the app would ignore are warned about, not listed."""
    write_home_config(
        tmp_path,
        'theme = "no-such-theme"\n[keys]\nrefresh = "notakey+zz"\nnew = "q"\n'
        'bogus_id = "f6"\nhelp = "f2"\n',
    )

    result = run_cli("config", home=tmp_path)

    assert result.returncode == 0
    assert "Ignored theme = 'no-such-theme'" in result.stderr
    assert "Ignored key 'notakey+zz' of [keys] refresh" in result.stderr
    assert "Ignored [keys] bogus_id" in result.stderr
    assert "takes q from Quit (quit) on the job list" in result.stderr
    assert "Screen" not in result.stderr
    assert "theme: dark" in result.stdout
    assert "no-such-theme" not in result.stdout
    assert "key: help = f2" in result.stdout
    assert "refresh" not in result.stdout
    assert "bogus_id" not in result.stdout


@pytest.mark.parametrize(
    ("base_url", "api_key", "source", "expected"),
    [
        (None, None, None, "no API key (the local engine needs none)"),
        ("http://127.0.0.1:9", SECRET, "$PLEXE_API_KEY", "API key from $PLEXE_API_KEY"),
        ("http://127.0.0.1:9", None, None, "no API key set"),
    ],
)
def test_log_names_key_source(
    base_url: str | None, api_key: str | None, source: str | None, expected: str
) -> None:
    choice = ServerChoice("work", base_url, api_key, source)

    assert key_source_text(choice) == expected
