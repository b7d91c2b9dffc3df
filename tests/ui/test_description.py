"""The rendering of a build's `describe` response, without a screen."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from plexe_tui.ui.description import render_description

BOOSTING = {"name": "boosting", "metric_value": 0.91, "seconds": 3.0}


def rendered(body: dict[str, Any]) -> str:
    console = Console(width=120, no_color=True)
    with console.capture() as capture:
        console.print(render_description(body))
    return capture.get()


def describe(splits: int | None, spread: float | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metric": {"name": "roc_auc"},
        "chosen": "boosting",
        "approaches": [{**BOOSTING, "metric_std": spread}],
    }
    if splits is not None:
        body["validation_splits"] = splits
    return body


@pytest.mark.parametrize(
    ("splits", "spread", "title", "spread_column"),
    [
        (5, 0.012, "Approaches tried, scored by cross-validation", True),
        (1, None, "Approaches tried, scored on one holdout split", False),
        (None, 0.012, "Approaches tried, scored by cross-validation", True),
        (None, 0.0, "Approaches tried", False),
        (None, None, "Approaches tried", False),
    ],
)
def test_approach_table_names_validation(
    splits: int | None, spread: float | None, title: str, spread_column: bool
) -> None:
    text = rendered(describe(splits, spread))
    title_line = text.splitlines()[2].strip()

    assert title_line == title
    assert ("±" in text) is spread_column


def test_holdout_hides_zero_spread() -> None:
    """An earlier engine sent a spread of 0 for its single holdout split."""
    text = rendered(describe(1, 0.0))

    assert "0.0000" not in text
    assert "cross-validation" not in text
