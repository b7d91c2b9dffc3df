"""The objects one engine instance shares between its routes."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from plexe_tui.engine.dispatcher import BuildDispatcher
from plexe_tui.engine.predictor import ModelCache
from plexe_tui.engine.settings import EngineSettings
from plexe_tui.engine.storage import Storage


@dataclass(frozen=True)
class EngineContext:
    """Storage, build queue, model cache and settings of one engine app."""

    storage: Storage
    dispatcher: BuildDispatcher
    models: ModelCache
    settings: EngineSettings


async def get_context(request: Request) -> EngineContext:
    """Return the context that ``create_app`` attached to the app.

    It is a coroutine because FastAPI runs a plain function dependency in its
    thread pool, and the hand-off to a thread and back cost more than a whole
    prediction on /infer.
    """
    context = request.app.state.engine
    assert isinstance(context, EngineContext)
    return context


Context = Annotated[EngineContext, Depends(get_context)]
