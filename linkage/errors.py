"""Linkage's errors: one tree, so a caller can catch every failure of the pipeline at once.

    try:
        ingest(SourceKind.POPULATION, [path], data_dir)
    except LinkageError as exc:  # IngestError, SourceError, ModelError, NotCompilable
        ...

Each message says what failed and, where a person can act on it, what to do next.
"""

from __future__ import annotations


class LinkageError(Exception):
    """Something in reading, training or linking failed; the message names what."""


class IngestError(LinkageError):
    """The input cannot be ingested at all; nothing was written."""


class SourceError(LinkageError):
    """A whole file cannot be read (not found, not the format, broken beyond one record)."""


class EvaluationError(LinkageError):
    """A truth file that cannot be read or does not describe the records linked."""


class ModelError(LinkageError):
    """No usable model: none trained yet, or training learnt nonsense."""


class NotCompilable(LinkageError, ValueError):
    """A model whose conditions use SQL the real-time compiler does not translate."""
