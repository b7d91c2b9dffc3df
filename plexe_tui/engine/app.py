"""The engine's FastAPI application: routes, error handlers and the build queue."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI

from plexe_tui import __version__
from plexe_tui.engine import model_routes, upload_routes
from plexe_tui.engine.access import TokenMiddleware
from plexe_tui.engine.context import EngineContext
from plexe_tui.engine.dispatcher import BuildDispatcher
from plexe_tui.engine.folder_lock import FolderInUse, FolderLock
from plexe_tui.engine.handlers import install_error_handlers
from plexe_tui.engine.predictor import ModelCache
from plexe_tui.engine.settings import EngineSettings
from plexe_tui.engine.storage import Storage

logger = logging.getLogger(__name__)

ENGINE_NAME = "plexe-tui local"


def create_app(data_dir: Path, settings: EngineSettings | None = None) -> FastAPI:
    """Create the engine app that keeps its data under ``data_dir``.

    ``settings`` defaults to the environment's (see ``EngineSettings``). The app's
    lifespan locks the data folder against other engines and starts the
    build dispatcher, which first queues again the builds an earlier run left
    unfinished. On shutdown it stops the dispatcher, terminating a running training
    process, and releases the lock.
    """
    settings = settings or EngineSettings.from_environment()
    storage = Storage(data_dir)
    folder_lock = FolderLock(storage.data_dir)
    context = EngineContext(
        storage=storage,
        dispatcher=BuildDispatcher(storage, settings.max_parallel_builds),
        models=ModelCache(storage),
        settings=settings,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            folder_lock.acquire()
        except FolderInUse as error:
            logger.error("engine not started: %s", error)
            raise
        context.dispatcher.start()
        logger.info("engine started with data folder %s", storage.data_dir)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(context.dispatcher.stop)
            folder_lock.release()
            logger.info("engine stopped")

    app = FastAPI(
        title="plexe-tui local engine",
        version=__version__,
        description="A local server that implements the Plexe Platform API and trains "
        "scikit-learn models.",
        lifespan=lifespan,
    )
    app.state.engine = context
    install_error_handlers(app)
    if settings.token:
        app.add_middleware(TokenMiddleware, token=settings.token)
    app.add_api_route("/health", health, methods=["GET"], tags=["health"])
    app.include_router(upload_routes.router)
    app.include_router(model_routes.router)
    return app


def health() -> dict[str, Any]:
    """Return the engine's liveness, name and version."""
    return {"status": "ok", "engine": ENGINE_NAME, "version": __version__}
