"""A trained model and the versioned store of them.

A model is three things kept side by side: Splink's settings (exactly what Splink reads, m and u
values included), the term frequencies of the names it was trained on, and HoSo's record of it
(name, version, when, on what, which parameters came from the baseline). Files written before they
were kept apart (HoSo's keys `hoso*` inside Splink's settings) are read too.

Models live in `DATA/models/model-vNNN.json`; `current` names the one linking uses.

    store = ModelStore(data_dir)
    model = store.save(trained)        # a new version, made current
    store.current().splink             # what Splink reads
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from linkage.errors import ModelError
from linkage.matching.model import MODEL_NAME

TermFrequencies = dict[str, dict[str, float]]


@dataclass(frozen=True)
class TrainedModel:
    """Splink's settings with their trained m and u values, the names' term frequencies, and HoSo's
    record of the model (`meta`: model, version, trained_at, from_baseline, ...)."""

    splink: dict[str, Any]
    tf: TermFrequencies = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unsaved"))

    def as_json(self) -> dict[str, Any]:
        return {"splink": self.splink, "tf": self.tf, "hoso": self.meta}

    def among(self, population: int | None) -> dict[str, Any]:
        """Splink's settings for scoring among `population` records (those linked and those coming).

        The prior, the chance that two records picked at random are one person, was estimated among
        the records the model was trained on; a person has about as many records whatever the
        population, so among twice the records it is half as large. With the whole name's and the
        birth date's frequencies, a pair of namesakes then weighs what the number of namesakes it must
        be told apart from says, now, not when the model was trained (the model is retrained when the
        records double). A population smaller than the model's keeps the model's prior (a model
        trained elsewhere, or the baseline, on a few records would otherwise take a prior of almost one).
        """
        trained_on = self.meta.get("records")
        prior = self.splink.get("probability_two_random_records_match")
        if not population or not isinstance(trained_on, int) or population <= trained_on or not prior:
            return self.splink
        return {**self.splink, "probability_two_random_records_match": float(prior) * trained_on / population}

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> TrainedModel:
        """The model of a file: this module's form, or the earlier one with `hoso*` keys in Splink's."""
        if "splink" in data:
            return cls(splink=data["splink"], tf=data.get("tf") or {}, meta=data.get("hoso") or {}, path=path)
        meta = dict(data.get("hoso") or {})
        if "hoso_from_baseline" in data:
            meta["from_baseline"] = data["hoso_from_baseline"]
        if "hoso_baseline" in data:
            meta["baseline"] = data["hoso_baseline"]
        splink = {k: v for k, v in data.items() if not k.startswith("hoso")}
        return cls(splink=splink, tf=data.get("hoso_tf") or {}, meta=meta, path=path)

    @classmethod
    def read(cls, path: Path) -> TrainedModel:
        """The model of a file, parsed once per process while the file stays as it is.

        A model's file holds the names' term frequencies (tens of MB at a million persons): a server
        parsed it twice for each self-report it linked (0.35 s of about a second). A saved version is
        never rewritten, but the key holds the file's size and modification time all the same. The
        model returned is shared: read it, never change it.
        """
        stat = path.stat()
        model = _read(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        return model if model.path == path else replace(model, path=path)


@lru_cache(maxsize=2)
def _read(path: str, _mtime_ns: int, _size: int) -> TrainedModel:
    return TrainedModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")), Path(path))


class ModelStore:
    """Versioned models under a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "models"

    def versions(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.stem.removeprefix("model-") for p in self.root.glob("model-v*.json"))

    def save(self, model: TrainedModel) -> TrainedModel:
        """Write `model` as a new version and make it current."""
        self.root.mkdir(parents=True, exist_ok=True)
        versions = self.versions()
        number = int(versions[-1][1:]) + 1 if versions else 1
        version = f"v{number:03d}"
        path = self.root / f"model-{version}.json"
        saved = replace(model, path=path, meta={
            "model": MODEL_NAME, "version": version, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **{k: v for k, v in model.meta.items() if k not in ("model", "version", "trained_at")}})
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(saved.as_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        tmp_current = self.root / ".current.tmp"
        tmp_current.write_text(version)
        os.replace(tmp_current, self.root / "current")
        return saved

    def current(self) -> TrainedModel:
        """The model linking uses; `ModelError` when none was trained."""
        pointer = self.root / "current"
        if not pointer.exists():
            raise ModelError("no trained model: run `hoso train` first")
        version = pointer.read_text().strip()
        return TrainedModel.read(self.root / f"model-{version}.json")
