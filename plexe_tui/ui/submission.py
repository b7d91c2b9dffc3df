"""Sending a checked build form: reuse or upload the file, then start the build."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from plexe_tui.api import ApiError, PlexeClient
from plexe_tui.store import Job
from plexe_tui.store.uploads import UploadCache
from plexe_tui.ui.form_rules import CheckedForm

log = logging.getLogger(__name__)

StatusCallback = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]
"""Called with (bytes sent, total bytes) during an upload."""


def transfer_text(name: str, sent: int, total: int, seconds: float) -> str:
    """Describe an upload in flight: bytes, speed and time left."""
    rate = sent / seconds if seconds > 0 else 0.0
    left = (total - sent) / rate if rate > 0 else None
    eta = f", {left:.0f} s left" if left is not None else ""
    return (
        f"Uploading {name}: {sent / 1e6:.1f} of {total / 1e6:.1f} MB "
        f"at {rate / 1e6:.1f} MB/s{eta}. Press escape to cancel."
    )


class Submission:
    """One press of Submit: from a checked form to a recorded job."""

    def __init__(
        self,
        client: PlexeClient,
        server: str,
        uploads: UploadCache,
        *,
        on_status: StatusCallback,
        on_progress: ProgressCallback,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.server = server
        self.uploads = uploads
        self.on_status = on_status
        self.on_progress = on_progress
        self.monotonic = monotonic

    async def run(self, form: CheckedForm, parent: Job | None) -> Job:
        """Upload the dataset when it is a local file, then start the build."""
        request = form.request
        dataset = form.dataset.text or None
        if form.dataset.path is not None:
            path = form.dataset.path.expanduser().resolve()
            dataset = str(path)
            request = dataclasses.replace(request, upload_id=await self.upload(path))

        self.on_status(f"Starting the build of {form.model_name}…")
        try:
            ref = await self.client.start_build(form.model_name, request)
        except ApiError as exc:
            log.warning(
                "The build of %s on %s was not started: %s",
                form.model_name,
                self.server,
                exc.message,
            )
            raise
        log.info("Started %s:%s on %s", ref.model_name, ref.model_version, self.server)
        return Job(
            model_name=ref.model_name,
            model_version=ref.model_version,
            server=self.server,
            goal=request.goal,
            status=ref.status,
            dataset=dataset,
            upload_id=request.upload_id,
            input_schema=request.input_schema,
            output_schema=request.output_schema,
            metric=request.metric,
            max_iterations=request.max_iterations,
            provider=request.provider,
            parent=parent.key if parent else None,
        )

    async def upload(self, path: Path) -> str:
        """Return an upload id for the file: a recorded one the server still has,
        else a new upload."""
        cached = await asyncio.to_thread(self.uploads.find, self.server, path)
        if cached is not None:
            self.on_status(f"Checking the earlier upload of {path.name}…")
            info = await self.client.get_upload(cached)
            if info is not None and info.status in (None, "complete", "completed"):
                self.on_status(f"Reusing upload {cached} of {path.name}.")
                return cached
            await asyncio.to_thread(self.uploads.forget, self.server, cached)

        started = self.monotonic()

        def progress(sent: int, total: int) -> None:
            self.on_progress(sent, total)
            elapsed = self.monotonic() - started
            self.on_status(transfer_text(path.name, sent, total, elapsed))

        self.on_status(f"Uploading {path.name}…")
        upload_id = await self.client.upload_file(path, on_progress=progress)
        await asyncio.to_thread(self.uploads.remember, self.server, path, upload_id)
        log.info("Uploaded %s as %s to %s", path, upload_id, self.server)
        return upload_id
