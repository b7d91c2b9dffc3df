"""Render a build's `describe` response: what the server chose, tried and why.

The local engine sends the fields read here; other servers may send fewer or
others, so every field is optional and unknown shapes fall back to JSON.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def render_description(body: dict[str, Any]) -> RenderableType:
    """Return the description as a grid of facts and a table of approaches."""
    facts = _facts(body)
    approaches = body.get("approaches")
    if not facts and not isinstance(approaches, list):
        return Text(json.dumps(body, indent=2, default=str))

    parts: list[RenderableType] = []
    if facts:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for name, value in facts:
            grid.add_row(name, Text(value))
        parts.append(grid)
    if isinstance(approaches, list) and approaches:
        parts.append(Text(""))
        parts.append(_approach_table(approaches, body))
    return Group(*parts)


def _facts(body: dict[str, Any]) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if body.get("target"):
        facts.append(
            ("Target", _with_reason(body["target"], body.get("target_reason")))
        )
    if body.get("task"):
        facts.append(("Task", _with_reason(body["task"], body.get("task_reason"))))

    features = body.get("features")
    if isinstance(features, list) and features:
        names = [
            str(item.get("name", item)) if isinstance(item, dict) else str(item)
            for item in features
        ]
        facts.append(("Features", f"{len(names)}: {', '.join(names)}"))

    dropped = body.get("dropped_columns")
    if isinstance(dropped, list) and dropped:
        lines = [
            f"{item.get('column')}: {item.get('reason')}"
            if isinstance(item, dict)
            else str(item)
            for item in dropped
        ]
        facts.append(("Dropped", "\n".join(lines)))

    if body.get("validation"):
        facts.append(("Validation", str(body["validation"])))
    if body.get("chosen"):
        facts.append(
            ("Chosen", _with_reason(body["chosen"], body.get("chosen_reason")))
        )
    if body.get("search_note"):
        facts.append(("Note", str(body["search_note"])))
    return facts


def _with_reason(value: Any, reason: Any) -> str:
    return f"{value} ({reason})" if reason else str(value)


def _approach_table(approaches: list[Any], body: dict[str, Any]) -> Table:
    metric = body.get("metric")
    metric_name = metric.get("name") if isinstance(metric, dict) else metric
    cross_validated = _cross_validated(approaches, body)
    if cross_validated:
        title = "Approaches tried, scored by cross-validation"
    elif cross_validated is False:
        title = "Approaches tried, scored on one holdout split"
    else:
        title = "Approaches tried"
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("Approach")
    table.add_column(str(metric_name or "score"), justify="right")
    if cross_validated:
        table.add_column("±", justify="right")
    table.add_column("Seconds", justify="right")
    table.add_column("Error or note", overflow="fold")

    chosen = body.get("chosen")
    for item in approaches:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name", "?"))
        marker = " (chosen)" if name == chosen else ""
        spread = [_number(item.get("metric_std"))] if cross_validated else []
        table.add_row(
            Text(name + marker, style="bold" if marker else ""),
            _number(item.get("metric_value")),
            *spread,
            _number(item.get("seconds"), digits=2),
            _note(item),
        )
    return table


def _cross_validated(approaches: list[Any], body: dict[str, Any]) -> bool | None:
    """Return whether several splits scored each approach; None when unknown.

    The local engine sends `validation_splits`. Without it, a nonzero spread
    (`metric_std`) of some approach shows there were several splits. Earlier
    engines sent a spread of 0 for a single holdout split, so a zero spread
    proves nothing.
    """
    splits = body.get("validation_splits")
    if isinstance(splits, int) and not isinstance(splits, bool) and splits > 0:
        return splits > 1
    for item in approaches:
        spread = item.get("metric_std") if isinstance(item, dict) else None
        if _is_number(spread) and spread > 0:
            return True
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _note(approach: dict[str, Any]) -> Text:
    """Return an approach's error in red, else why it was skipped, else what it is."""
    if approach.get("error"):
        return Text(str(approach["error"]), style="red")
    if approach.get("skipped_reason"):
        return Text(f"skipped: {approach['skipped_reason']}", style="dim")
    return Text(str(approach.get("description") or ""), style="dim")


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.{digits}f}"
    return "—"
