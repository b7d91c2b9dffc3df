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
) -> str:
    """Return a curl command that starts the same build at `base_url`.

    With `with_key`, the command sends the value of the shell variable
    `key_variable` as the API key. The command spans lines joined by
    backslashes, for a POSIX shell. `-sS` hides curl's progress meter but not
    its errors.
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
    return " \\\n  ".join(parts)
