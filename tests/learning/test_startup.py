"""`eudigest model status` reads the stored model's versions and shape without loading
scikit-learn (only training and scoring import it)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_startup_imports import loaded


def test_model_status_does_not_load_scikit_learn(tmp_path: Path) -> None:
    assert "sklearn" not in {m.split(".")[0] for m in loaded(tmp_path, "init")}

    modules = loaded(tmp_path, "model", "status", "--json")

    assert not {m for m in modules if m.split(".")[0] in ("sklearn", "numpy", "scipy")}
