"""The `.env` file beside the manifests: read if present, never overriding the environment.

This is the usual convention (docker compose, python-dotenv): variables already set win.
Values are never printed; only the file's path appears in messages.
"""
from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

ENV_FILE_NAME = ".env"


def load_env_file(root: Path) -> list[str]:
    """Export the variables of `root/.env` that are not set yet; return the names exported."""
    path = root / ENV_FILE_NAME
    if not path.is_file():
        return []
    exported = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in os.environ:
            os.environ[name] = value
            exported.append(name)
    return exported
