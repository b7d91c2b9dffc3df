"""A job's build request written as a curl command, to run it again by hand.

The API key never appears: the command reads it from a shell variable
(`PLEXE_API_KEY` unless the server's profile names another) when it runs. A
build on the local engine gets no key header, because the engine needs none.
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote

from plexe_tui.api import BuildRequest
from plexe_tui.store import Job

DEFAULT_KEY_VARIABLE = "PLEXE_API_KEY"


def build_request_of(job: Job) -> BuildRequest:
    """Return the request a job was started with, as far as the job records it."""
    return BuildRequest(
        goal=job.goal,
        upload_id=job.upload_id,
        input_schema=job.input_schema,
        output_schema=job.output_schema,
        metric=job.metric,
        max_iterations=job.max_iterations,
        provider=job.provider,
    )


def curl_command(
    job: Job,
    base_url: str,
    *,
    with_key: bool,
    key_variable: str = DEFAULT_KEY_VARIABLE,
    note: str | None = None,
) -> str:
    """Return a curl command that starts the same build at `base_url`.

    With `with_key`, the command sends the value of the shell variable
    `key_variable` as the API key. The command spans lines joined by
    backslashes, for a POSIX shell. `-sS` hides curl's progress meter but not
    its errors. A `note` goes first, as a shell comment, so the pasted text
    still runs.
    """
    url = f"{base_url.rstrip('/')}/models/{quote(job.model_name, safe='')}"
    body = json.dumps(build_request_of(job).to_body(), ensure_ascii=False)
    parts = [
        f"curl -sS -X POST {shlex.quote(url)}",
        "-H 'content-type: application/json'",
    ]
    if with_key:
        # Double quotes, so that the shell puts the key in when it runs.
        # NOTE: `key_variable` comes from a profile's api_key_env unchecked, so
        # a name that is not a shell identifier makes a broken command.
        parts.append(f'-H "x-api-key: ${key_variable}"')
    parts.append(f"-d {shlex.quote(body)}")
    command = " \\\n  ".join(parts)
    if note:
        comment = "\n".join(f"# {line}" for line in note.splitlines())
        command = f"{comment}\n{command}"
    return command


def local_engine_note(base_url: str, *, running: bool) -> str:
    """Return the comment of a command for the local engine: which one it reaches.

    The app starts its engine on a free port, so the address is good only
    while this app runs.
    """
    if running:
        return (
            f"{base_url} is the local engine of the plexe-tui that is running "
            "now.\nIts port changes at every start, and it stops when the app "
            "quits."
        )
    return (
        f"{base_url} is where 'plexe-tui engine' listens by default; start it "
        "first.\nIt reads the same data folder as the app's engine."
    )
