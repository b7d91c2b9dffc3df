"""Actions on one job from its detail screen: forget, delete or cancel, and copy.

Each action that loses something asks the user to confirm first. Deleting
and cancelling use `DELETE /models/{name}/{version}`, which the local engine
offers and the hosted platform may not, so a 405 hides the action for the
rest of the session.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from plexe_tui.api import ApiError, is_terminal
from plexe_tui.api.errors import NotFoundError
from plexe_tui.store import Job
from plexe_tui.ui.connection import LOCAL_SERVER
from plexe_tui.ui.curl import curl_command, local_engine_note
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.server_choice import key_profile, key_variable
from plexe_tui.ui.servers import server_label

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp
    from plexe_tui.ui.screens.detail import DetailScreen

log = logging.getLogger(__name__)


def server_name(server: str) -> str:
    """Name a job's server in a message: `the local engine`, or host and port."""
    return "the local engine" if server == LOCAL_SERVER else server_label(server)


# The address the README gives an engine started by hand. A curl command for
# a local build uses it when this app runs no local engine.
DEFAULT_ENGINE_URL = "http://127.0.0.1:8765"


class JobActions:
    """Forget, delete, cancel and copy for the job of one detail screen."""

    def __init__(self, screen: DetailScreen) -> None:
        self.screen = screen

    @property
    def app(self) -> PlexeApp:
        return self.screen.plexe

    def forget(self, job: Job) -> None:
        """Ask, then remove the job from this app's history."""
        question = (
            f"Forget {job.label}? It leaves this app's job list and jobs file. "
            "Nothing changes on the server."
        )

        def answered(choice: str | None) -> None:
            if choice != "forget":
                return
            self.app.forget_job(job.key)
            self.app.notify(f"Forgot {job.label}.", markup=False)
            self.screen.dismiss()

        self.app.push_screen(
            ChoiceScreen(
                question, [("forget", "Forget"), ("cancel", "Keep")], focus="cancel"
            ),
            answered,
        )

    def delete(self, job: Job) -> None:
        """Ask, then delete a finished model on its server, or cancel a build."""
        where = server_name(job.server)
        if is_terminal(job.status):
            question = (
                f"Delete {job.label} on {where}? Its trained model is removed "
                "there for good, and the job leaves this app's job list."
            )
            choices = [("delete", "Delete on the server"), ("cancel", "Keep")]
        else:
            question = (
                f"Cancel the build {job.label} on {where}? It stops training there."
            )
            choices = [("delete", "Cancel the build"), ("cancel", "Keep building")]

        def answered(choice: str | None) -> None:
            if choice == "delete":
                self.screen.run_worker(
                    self.send_delete(job), name="delete", exclusive=True
                )

        self.app.push_screen(ChoiceScreen(question, choices, focus="cancel"), answered)

    async def send_delete(self, job: Job) -> None:
        """Send the DELETE and apply its outcome."""
        ended = is_terminal(job.status)
        try:
            client = await self.screen.connection(job).client()
            await client.delete_model(job.model_name, job.model_version)
        except ApiError as exc:
            self.explain_delete_failure(job, exc)
            return

        self.app.servers.features_for(job.server).delete_models = True
        if ended:
            log.info("Deleted %s on %s", job.label, job.server)
            self.app.forget_job(job.key)
            self.app.notify(
                f"Deleted {job.label} on {server_name(job.server)}.", markup=False
            )
            self.screen.dismiss()
        else:
            log.info("Cancelled %s on %s", job.label, job.server)
            self.app.notify(
                f"Asked {server_name(job.server)} to cancel {job.label}.",
                markup=False,
            )
            self.screen.action_refresh()

    def explain_delete_failure(self, job: Job, exc: ApiError) -> None:
        """Say why the DELETE failed; a 405 hides the action from now on."""
        log.warning("DELETE of %s failed: %s", job.label, exc.message)
        if exc.status_code == 405:
            self.app.servers.features_for(job.server).delete_models = False
            self.screen.refresh_bindings()
            message = (
                "This server does not offer deleting models (405). Press f to "
                f"forget {job.label} in this app."
            )
        elif isinstance(exc, NotFoundError):
            message = (
                f"The server has no {job.label} to delete ({exc.message}). Press "
                "f to forget it in this app."
            )
        else:
            message = f"Deleting {job.label} failed: {exc.message}"
        self.app.notify(message, title="Delete", severity="error", markup=False)

    def copy_id(self, job: Job) -> None:
        """Copy `name:version`, the platform's model id."""
        self.app.copy_to_clipboard(job.label)
        self.app.notify(f"Copied the model id {job.label}.", markup=False)

    def copy_curl(self, job: Job) -> None:
        """Copy a curl command that starts the same build; the key stays out.

        The command sends a key only when the app sends one to that server,
        read from the variable of the profile that names the server.
        """
        base_url = job.server
        note = None
        engine_note = ""
        if job.server == LOCAL_SERVER:
            connection = self.app.servers.existing_connection(LOCAL_SERVER)
            engine = connection.engine if connection is not None else None
            running = engine.base_url if engine else None
            base_url = running or DEFAULT_ENGINE_URL
            note = local_engine_note(base_url, running=running is not None)
            engine_note = (
                " Its port changes at every start of the app."
                if running
                else " Start it with 'plexe-tui engine' first."
            )
        variable = key_variable(self.app, job.server)
        command = curl_command(
            job,
            base_url,
            with_key=variable is not None,
            key_variable=variable or "",
            note=note,
        )
        self.app.copy_to_clipboard(command)
        where = f"the local engine at {base_url}" if note else base_url
        self.app.notify(
            f"Copied a curl command that starts {job.model_name} again on "
            f"{where}.{self.key_note(job, variable)}{engine_note}",
            markup=False,
        )

    def key_note(self, job: Job, variable: str | None) -> str:
        """Return a sentence on where the command's API key comes from, or why none."""
        if job.server == LOCAL_SERVER:
            return ""
        if variable is not None:
            return f" It reads the API key from {variable}."
        profile = key_profile(self.app, job.server)
        if profile is None:
            return " It sends no API key: no profile in config.toml names that server."
        return f" It sends no API key: profile {profile.name} has none set."
