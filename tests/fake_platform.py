"""A local stand-in for the hosted Plexe platform, for tests that cannot reach it.

The hosted platform is out of reach from the test machines, so `FakePlatform`
serves its documented request and response shapes from a uvicorn server on
127.0.0.1 in a background thread. It is an HTTP server, not a mock of our code:
the client under test talks to it over loopback as it would to the platform.

Default behaviour follows the canonical flow:

- `POST /uploads` returns an upload id and a presigned URL on this same server
  (`/storage/{upload_id}?X-Amz-Signature=...`). A `PUT` there stores the bytes
  and needs no key. `POST /uploads/status` then marks the upload complete.
- `POST /models/{name}` starts a build at version 1, 2, ... in status `pending`.
  `GET /models/{name}/{version}/status`, `GET /models/{name}/{version}` and
  `GET /models` read it back, and `set_build` moves it to another status.
- `POST /models/{name}/{version}/infer` returns 409 until the build is
  `completed`, then `{"result": ..., "request_id": ...}`.
- With `api_key` set, every call except `/health` and the storage `PUT` needs
  that key in `x-api-key` or `Authorization: Bearer`, else it gets a 401.

A test scripts other responses per method and path. Each scripted response is
used once (or `times` times) before the next one queued for that route, and then
the default behaviour applies again:

    platform.respond("GET", "/models/churn/1/status", json={"status": "READY"})
    platform.respond("GET", "/models", status=502, text="<html>...</html>",
                     headers={"content-type": "text/html"})
    platform.respond("GET", "/models", status=429, headers={"retry-after": "3"})
    platform.respond("GET", "/models", delay=5.0)  # outlasts a short timeout

Scripted responses take precedence over the key check. Every request, scripted or
not, is recorded in `requests`, and `request_counts` counts them per method and
path. For a refused connection, use `closed_port_url`.

`GET /models` answers in the paginated shape by default; set `list_shape` to
`"array"` for the bare array of older platform versions, and `list_ids` to name
items by `model_id` (`name:version`) instead of `model_name` and
`model_version`.

`misbehave` switches every later call, until `behave`, to one `Fault`: a
refused connection (the server stops, keeping its port and state), a response
held past the client's timeout, a 5xx or 429, a body that is not JSON, each
documented error shape, or a dialect of the successful responses (unknown or
upper-case status words, missing fields, `model_id` as `name:version`, bare
lists). Scripted responses still come first:

    platform.misbehave(Fault.BAD_GATEWAY)
    ...                           # the client sees 502 pages
    platform.behave()             # the default behaviour again
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FAKE_API_KEY = "fake-platform-key-0123456789"
LIST_LIMIT_MAX = 100
LIST_LIMIT_DEFAULT = 20
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0

# Seconds a TIMEOUT fault delays each response unless `behave` releases it first;
# far longer than any client timeout in the tests.
FAULT_HOLD_SECONDS = 60.0
RETRY_AFTER_SECONDS = 7
FAULT_MESSAGE = "The platform is down for maintenance until 14:00 UTC"
"""The message of the error-shape faults, in each shape."""
UNKNOWN_STATUS_WORD = "thinking"
BAD_GATEWAY_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title>
<style>body { font-family: sans-serif; }</style></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>
</html>
"""

_UNSET: Any = object()
_STATUS_FIELDS = (
    "model_name",
    "model_version",
    "status",
    "build_progress",
    "phase",
    "iteration",
    "max_iterations",
    "result",
    "error",
    "created_at",
    "updated_at",
)


class Fault(StrEnum):
    """A way `FakePlatform.misbehave` makes every call fail or look different."""

    REFUSED = "refused"
    """The server stops listening, so connections are refused."""
    TIMEOUT = "timeout"
    """Every response waits FAULT_HOLD_SECONDS, or until `behave`."""
    SERVER_ERROR = "500"
    """500 with a plain text body."""
    BAD_GATEWAY = "502-html"
    """502 with a gateway's HTML page."""
    RATE_LIMITED = "429"
    """429 with `Retry-After: RETRY_AFTER_SECONDS`."""
    MALFORMED_JSON = "malformed-json"
    """200 with a JSON content type and a body cut off mid-value."""
    ERROR_OBJECT = "error-object"
    """503 with `{"error": {"code", "message"}}`."""
    ERROR_DETAIL = "error-detail"
    """503 with `{"detail": message}`."""
    ERROR_MESSAGE = "error-message"
    """503 with `{"message": message}`."""
    ERROR_TEXT = "error-text"
    """503 with the message as plain text."""
    UNKNOWN_STATUS = "unknown-status"
    """Build statuses read UNKNOWN_STATUS_WORD."""
    UPPER_CASE_STATUS = "upper-case-status"
    """Build statuses in upper case, e.g. `BUILDING`."""
    MISSING_FIELDS = "missing-fields"
    """Builds carry only their status, and list items also their name and version."""
    MODEL_ID = "model-id"
    """Builds name themselves by `model_id` as `name:version`."""
    BARE_LIST = "bare-list"
    """Lists come as bare JSON arrays, without `pagination`."""


FAILURES = frozenset(
    {
        Fault.REFUSED,
        Fault.TIMEOUT,
        Fault.SERVER_ERROR,
        Fault.BAD_GATEWAY,
        Fault.RATE_LIMITED,
        Fault.MALFORMED_JSON,
        Fault.ERROR_OBJECT,
        Fault.ERROR_DETAIL,
        Fault.ERROR_MESSAGE,
        Fault.ERROR_TEXT,
    }
)
"""Faults that make calls fail; the others change the shape of successful ones."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake platform received it."""

    method: str
    path: str
    """The decoded path, without the query string."""
    query: dict[str, str]
    headers: dict[str, str]
    """Header names are lower case."""
    body: bytes

    def json(self) -> Any:
        """Parse the body as JSON."""
        return json.loads(self.body)


@dataclass
class ScriptedResponse:
    """A response queued by `FakePlatform.respond`."""

    status: int
    body: bytes
    headers: dict[str, str]
    delay: float
    remaining: int | None
    """How many more requests it serves; None means every one until reset."""


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    scripted: dict[tuple[str, str], list[ScriptedResponse]] = field(
        default_factory=dict
    )
    builds: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    stored: dict[str, bytes] = field(default_factory=dict)
    next_upload: int = 1
    next_request_id: int = 1


def closed_port_url() -> str:
    """Return a loopback URL whose port has no listener, so connecting is refused.

    The port was free a moment ago; another process could take it in between,
    which is unlikely enough for tests.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakePlatform:
    """The Plexe platform API served from 127.0.0.1 on a free port.

    Use it as a context manager, or call `start` and `stop`. `reset` clears all
    state between tests so that one server can serve a whole session.
    """

    def __init__(self, api_key: str | None = FAKE_API_KEY) -> None:
        self.default_api_key = api_key
        self.api_key = api_key
        """The key requests must carry; None lets every request through."""
        self._lock = threading.Lock()
        self._state = _State()
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None
        self._started = threading.Event()
        self._address: tuple[str, int] | None = None
        self.fault: Fault | None = None
        """The fault every call gets, set by `misbehave`."""
        self.url = ""
        """Base URL, e.g. http://127.0.0.1:40123, set by `start`."""
        self.list_shape = "paginated"
        """Shape of `GET /models`: "paginated" ({"models", "pagination"}) or "array"."""
        self.list_ids = False
        """Whether list items name the model by `model_id` as `name:version`."""

    # Lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on a loopback address; return once the app has started.

        Port 0 picks a free port. Snapshot tests pass a fixed host and port,
        because the base URL appears on screen.
        """
        self._started.clear()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(64)
        port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self._address = (host, port)

        app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._handle,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ],
            lifespan=self._lifespan,
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"fake-platform-{port}",
            daemon=True,
        )
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(
                f"The fake platform did not start within {START_TIMEOUT_SECONDS} s."
            )

    def stop(self) -> None:
        """Release held responses, stop the server and join its thread."""
        if self._server is None or self._thread is None:
            return
        self._release_held()
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            raise RuntimeError(
                f"The fake platform did not stop within {STOP_TIMEOUT_SECONDS} s."
            )
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget requests, scripts, builds, uploads and faults; release held ones."""
        self.behave()
        with self._lock:
            self._state = _State()
        self.api_key = self.default_api_key
        self.list_shape = "paginated"
        self.list_ids = False

    def misbehave(self, fault: Fault) -> None:
        """Give every later call `fault` until `behave` (REFUSED stops the server)."""
        self.behave()
        self.fault = fault
        if fault is Fault.REFUSED:
            self.stop()

    def behave(self) -> None:
        """End the fault: release held responses, or serve again on the same port."""
        fault, self.fault = self.fault, None
        if fault is Fault.REFUSED and self._address is not None:
            self.start(*self._address)
        self._release_held()

    # Scripting and inspection

    def respond(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = _UNSET,
        text: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = 1,
    ) -> None:
        """Queue a response for `method path` (path without query string).

        Give at most one of `json`, `text` and `body`; with none, the body is
        empty. `json` and `text` set a content type unless `headers` has one.
        `delay` postpones the response that many seconds, or until `reset` or `stop`.
        `times=None` repeats the response until reset.
        """
        bodies = [value for value in (text, body) if value is not None]
        if json is not _UNSET:
            bodies.append(json)
        if len(bodies) > 1:
            raise ValueError("Give at most one of json, text and body.")

        merged = {name.lower(): value for name, value in (headers or {}).items()}
        if json is not _UNSET:
            payload = _encode_json(json)
            merged.setdefault("content-type", "application/json")
        elif text is not None:
            payload = text.encode("utf-8")
            merged.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            payload = body or b""

        scripted = ScriptedResponse(
            status=status,
            body=payload,
            headers=merged,
            delay=delay,
            remaining=times,
        )
        with self._lock:
            self._state.scripted.setdefault((method.upper(), path), []).append(scripted)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, in order."""
        with self._lock:
            return list(self._state.requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Return the requests received for one method and path."""
        expected = method.upper()
        return [r for r in self.requests if r.method == expected and r.path == path]

    def count(self, method: str, path: str) -> int:
        """Count the requests received for one method and path."""
        return len(self.requests_to(method, path))

    def request_counts(self) -> Counter[str]:
        """Count the requests received per `METHOD /path`, query strings left out."""
        return Counter(f"{r.method} {r.path}" for r in self.requests)

    def set_build(self, name: str, version: str, **fields: Any) -> dict[str, Any]:
        """Create or update a build record; return a copy of it.

        Fields are those of the status response (`status`, `build_progress`, `result`,
        `error`, ...) and `goal`. `output` sets what inference returns.
        """
        with self._lock:
            record = self._state.builds.get((name, version))
            if record is None:
                record = _new_build(name, version, {"goal": f"goal of {name}"})
                self._state.builds[(name, version)] = record
            record.update(fields)
            record["updated_at"] = _now()
            return dict(record)

    def build(self, name: str, version: str) -> dict[str, Any] | None:
        """Return a copy of one build record, or None."""
        with self._lock:
            record = self._state.builds.get((name, version))
            return None if record is None else dict(record)

    def stored_upload(self, upload_id: str) -> bytes | None:
        """Return the bytes a PUT stored for an upload, or None."""
        with self._lock:
            return self._state.stored.get(upload_id)

    def upload(self, upload_id: str) -> dict[str, Any] | None:
        """Return a copy of one upload record, or None."""
        with self._lock:
            record = self._state.uploads.get(upload_id)
            return None if record is None else dict(record)

    # Server side

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._release = asyncio.Event()
        self._started.set()
        yield

    def _release_held(self) -> None:
        """Wake every response held by `delay`, and arm a fresh event for later ones."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        async def swap() -> None:
            if self._release is not None:
                self._release.set()
            self._release = asyncio.Event()

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(swap(), loop).result(STOP_TIMEOUT_SECONDS)

    async def _hold(self, seconds: float) -> None:
        release = self._release
        if release is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), seconds)

    async def _handle(self, request: Request) -> Response:
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers=dict(request.headers),
            body=await request.body(),
        )
        with self._lock:
            self._state.requests.append(recorded)
            scripted = self._take_scripted(recorded.method, recorded.path)

        if scripted is not None:
            if scripted.delay > 0:
                await self._hold(scripted.delay)
            return Response(
                scripted.body, status_code=scripted.status, headers=scripted.headers
            )

        fault = self.fault
        if fault is Fault.TIMEOUT:
            await self._hold(FAULT_HOLD_SECONDS)
        elif fault in FAILURES:
            return _failure(fault)

        if not self._is_authorised(recorded):
            return _error(401, "unauthorized", "Invalid or missing API key.")
        with self._lock:
            response = self._route(recorded)
        if fault is None or fault in FAILURES or response.status_code >= 300:
            return response
        return _reshape(response, fault, recorded.path)

    def _take_scripted(self, method: str, path: str) -> ScriptedResponse | None:
        queue = self._state.scripted.get((method, path))
        if not queue:
            return None
        scripted = queue[0]
        if scripted.remaining is not None:
            scripted.remaining -= 1
            if scripted.remaining <= 0:
                queue.pop(0)
        return scripted

    def _is_authorised(self, request: RecordedRequest) -> bool:
        if self.api_key is None:
            return True
        if request.path == "/health" or request.path.startswith("/storage/"):
            return True
        if request.headers.get("x-api-key") == self.api_key:
            return True
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _route(self, request: RecordedRequest) -> Response:
        """Return the default behaviour's response; the caller must hold the lock."""
        parts = [part for part in request.path.split("/") if part]
        match (request.method, parts):
            case ("GET", ["health"]):
                return JSONResponse({"status": "ok"})
            case ("POST", ["uploads"]):
                return self._create_upload(request)
            case ("GET", ["uploads"]):
                return JSONResponse(
                    [_public_upload(u) for u in self._state.uploads.values()]
                )
            case ("POST", ["uploads", "status"]):
                return self._confirm_upload(request)
            case ("GET", ["uploads", upload_id]):
                return self._show_upload(upload_id)
            case ("DELETE", ["uploads", upload_id]):
                return self._delete_upload(upload_id)
            case ("PUT", ["storage", upload_id]):
                return self._store_upload(upload_id, request)
            case ("GET", ["models"]):
                return self._list_models(request)
            case ("POST", ["models", name]):
                return self._start_build(name, request)
            case ("GET", ["models", name, version]):
                return self._show_build(name, version, fields=None)
            case ("GET", ["models", name, version, "status"]):
                return self._show_build(name, version, fields=_STATUS_FIELDS)
            case ("GET", ["models", name, version, "describe"]):
                return self._describe(name, version)
            case ("POST", ["models", name, version, "infer"]):
                return self._infer(name, version, request)
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    def _create_upload(self, request: RecordedRequest) -> Response:
        body = _json_object(request)
        missing = [k for k in ("filename", "content_type") if not body.get(k)]
        if missing:
            return _validation_error(missing[0])

        upload_id = f"upl-{self._state.next_upload}"
        self._state.next_upload += 1
        key = f"uploads/{upload_id}/{body['filename']}"
        self._state.uploads[upload_id] = {
            "upload_id": upload_id,
            "filename": body["filename"],
            "content_type": body["content_type"],
            "key": key,
            "status": "pending",
            "created_at": _now(),
        }
        return JSONResponse(
            {
                "upload_id": upload_id,
                "presigned_url": (
                    f"{self.url}/storage/{upload_id}?X-Amz-Signature=fake-signature"
                ),
                "key": key,
            }
        )

    def _store_upload(self, upload_id: str, request: RecordedRequest) -> Response:
        if upload_id not in self._state.uploads:
            return Response(
                "<Error><Code>NoSuchUpload</Code>"
                "<Message>The specified upload does not exist.</Message></Error>",
                status_code=404,
                media_type="application/xml",
            )
        self._state.stored[upload_id] = request.body
        self._state.uploads[upload_id]["stored_content_type"] = request.headers.get(
            "content-type"
        )
        return Response(b"", headers={"etag": f'"{upload_id}-etag"'})

    def _confirm_upload(self, request: RecordedRequest) -> Response:
        body = _json_object(request)
        upload_id = str(body.get("upload_id") or "")
        record = self._state.uploads.get(upload_id)
        if record is None:
            return _error(404, "not_found", f"Upload {upload_id!r} not found.")
        if upload_id not in self._state.stored:
            return _error(
                409,
                "upload_incomplete",
                f"Upload {upload_id} has no stored file; PUT it first.",
            )
        record["status"] = "complete"
        record["size"] = len(self._state.stored[upload_id])
        return JSONResponse({"upload_id": upload_id, "status": "complete"})

    def _show_upload(self, upload_id: str) -> Response:
        record = self._state.uploads.get(upload_id)
        if record is None:
            return _error(404, "not_found", f"Upload {upload_id!r} not found.")
        return JSONResponse(_public_upload(record))

    def _delete_upload(self, upload_id: str) -> Response:
        if self._state.uploads.pop(upload_id, None) is None:
            return _error(404, "not_found", f"Upload {upload_id!r} not found.")
        self._state.stored.pop(upload_id, None)
        return JSONResponse({"upload_id": upload_id, "status": "deleted"})

    def _start_build(self, name: str, request: RecordedRequest) -> Response:
        body = _json_object(request)
        if not (body.get("goal") or body.get("intent")):
            return _validation_error("goal")

        versions = [v for (n, v) in self._state.builds if n == name]
        version = str(len(versions) + 1)
        record = _new_build(name, version, body)
        self._state.builds[(name, version)] = record
        return JSONResponse(
            {"model_name": name, "model_version": version, "status": "pending"},
            status_code=201,
        )

    def _show_build(
        self, name: str, version: str, fields: tuple[str, ...] | None
    ) -> Response:
        record = self._state.builds.get((name, version))
        if record is None:
            return _error(404, "not_found", f"Model {name}:{version} not found.")
        visible = {
            key: value
            for key, value in record.items()
            if key != "output" and (fields is None or key in fields)
        }
        return JSONResponse(visible)

    def _list_models(self, request: RecordedRequest) -> Response:
        try:
            limit = int(request.query.get("limit", LIST_LIMIT_DEFAULT))
            offset = int(request.query.get("offset", 0))
        except ValueError:
            return _validation_error("limit")
        if not 1 <= limit <= LIST_LIMIT_MAX or offset < 0:
            return _validation_error("limit" if offset >= 0 else "offset")

        records = list(reversed(self._state.builds.values()))
        status_filter = request.query.get("status")
        if status_filter:
            records = [r for r in records if r["status"] == status_filter]
        page = records[offset : offset + limit]
        items = [self._list_item(record) for record in page]
        if self.list_shape == "array":
            return JSONResponse(items)
        return JSONResponse(
            {
                "models": items,
                "pagination": {
                    "total": len(records),
                    "limit": limit,
                    "offset": offset,
                    "has_more": offset + limit < len(records),
                },
            }
        )

    def _list_item(self, record: dict[str, Any]) -> dict[str, Any]:
        item = {k: v for k, v in record.items() if k != "output"}
        if self.list_ids:
            name = item.pop("model_name")
            version = item.pop("model_version")
            item["model_id"] = f"{name}:{version}"
        return item

    def _describe(self, name: str, version: str) -> Response:
        record = self._state.builds.get((name, version))
        if record is None:
            return _error(404, "not_found", f"Model {name}:{version} not found.")
        return JSONResponse(
            {
                "model_name": name,
                "model_version": version,
                "goal": record.get("goal"),
                "description": f"A fake model for {record.get('goal')}.",
            }
        )

    def _infer(self, name: str, version: str, request: RecordedRequest) -> Response:
        record = self._state.builds.get((name, version))
        if record is None:
            return _error(404, "not_found", f"Model {name}:{version} not found.")
        if record["status"] != "completed":
            return _error(
                409,
                "model_not_ready",
                f"Model {name}:{version} is {record['status']}; "
                "inference needs a completed build.",
            )
        try:
            inputs = request.json()
        except ValueError:
            inputs = None
        if not isinstance(inputs, dict):
            return _validation_error("body")

        request_id = f"req-{self._state.next_request_id}"
        self._state.next_request_id += 1
        output = record.get("output", {"prediction": 1, "probability": 0.5})
        return JSONResponse({"result": output, "request_id": request_id})


def _failure(fault: Fault) -> Response:
    """Return the response of a fault that makes a call fail."""
    match fault:
        case Fault.SERVER_ERROR:
            return Response("Internal Server Error", status_code=500)
        case Fault.BAD_GATEWAY:
            return Response(BAD_GATEWAY_PAGE, status_code=502, media_type="text/html")
        case Fault.RATE_LIMITED:
            return JSONResponse(
                {"message": "Too many requests"},
                status_code=429,
                headers={"retry-after": str(RETRY_AFTER_SECONDS)},
            )
        case Fault.MALFORMED_JSON:
            return Response(
                b'{"model_name": "churn", "status": "buil',
                media_type="application/json",
            )
        case Fault.ERROR_OBJECT:
            return _error(503, "maintenance", FAULT_MESSAGE)
        case Fault.ERROR_DETAIL:
            return JSONResponse({"detail": FAULT_MESSAGE}, status_code=503)
        case Fault.ERROR_MESSAGE:
            return JSONResponse({"message": FAULT_MESSAGE}, status_code=503)
        case _:
            return Response(FAULT_MESSAGE, status_code=503, media_type="text/plain")


def _reshape(response: Response, fault: Fault, path: str) -> Response:
    """Rewrite a successful JSON response in the dialect that `fault` names."""
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return response
    if fault is Fault.BARE_LIST and isinstance(body, dict):
        lists = [body[key] for key in ("models", "uploads") if key in body]
        body = lists[0] if lists else body
    is_list = isinstance(body, list) or isinstance(body.get("models"), list)
    for build in _builds_in(body):
        _reshape_build(build, fault, keep_identity=is_list)
    return JSONResponse(body, status_code=response.status_code)


def _builds_in(body: Any) -> list[dict[str, Any]]:
    """Return the build records in a response body: itself, or its list items."""
    items = body.get("models", [body]) if isinstance(body, dict) else body
    return [item for item in items if isinstance(item, dict) and "status" in item]


def _reshape_build(build: dict[str, Any], fault: Fault, keep_identity: bool) -> None:
    match fault:
        case Fault.UNKNOWN_STATUS:
            build["status"] = UNKNOWN_STATUS_WORD
        case Fault.UPPER_CASE_STATUS:
            build["status"] = str(build["status"]).upper()
        case Fault.MISSING_FIELDS:
            kept = {"status", "model_name", "model_version"} if keep_identity else set()
            for key in set(build) - kept - {"status"}:
                del build[key]
        case Fault.MODEL_ID if "model_name" in build:
            name = build.pop("model_name")
            version = build.pop("model_version", "")
            build["model_id"] = f"{name}:{version}"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _encode_json(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def _json_object(request: RecordedRequest) -> dict[str, Any]:
    """Parse a JSON object body; anything else reads as an empty object."""
    try:
        body = request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status
    )


def _validation_error(field_name: str) -> JSONResponse:
    """Return a 422 in FastAPI's shape, naming the missing or invalid field."""
    return JSONResponse(
        {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["body", field_name],
                    "msg": "Field required",
                }
            ]
        },
        status_code=422,
    )


def _new_build(name: str, version: str, request: dict[str, Any]) -> dict[str, Any]:
    now = _now()
    record: dict[str, Any] = {
        "model_name": name,
        "model_version": version,
        "status": "pending",
        "goal": request.get("goal") or request.get("intent"),
        "error": None,
        "created_at": now,
        "updated_at": now,
    }
    for key in (
        "upload_id",
        "input_schema",
        "output_schema",
        "metric",
        "max_iterations",
        "provider",
    ):
        if key in request:
            record[key] = request[key]
    return record


def _public_upload(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "stored_content_type"}
