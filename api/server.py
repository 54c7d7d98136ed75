"""Run the app with uvicorn: one process, or several workers sharing the port."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings

ATLAS_VARIABLE = "COMMONSMAP_SERVE_ATLAS"
SETTINGS_VARIABLE = "COMMONSMAP_SERVE_SETTINGS"


def app_from_environment() -> FastAPI:
    """The app for a worker process: atlas and settings passed through the environment."""
    settings = Settings(**json.loads(os.environ.get(SETTINGS_VARIABLE, "{}")))
    return create_app(os.environ[ATLAS_VARIABLE], settings)


def serve(atlas: Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          settings: Settings | None = None, log_level: str = "warning") -> None:
    """Serve an atlas until interrupted."""
    settings = settings or Settings()
    create_app(atlas, settings)  # fail here, clearly, before any worker starts
    os.environ[ATLAS_VARIABLE] = str(Path(atlas).resolve())
    os.environ[SETTINGS_VARIABLE] = json.dumps({k: list(v) if isinstance(v, tuple) else v
                                                for k, v in asdict(settings).items()})
    uvicorn.run("api.server:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=False, server_header=False)
