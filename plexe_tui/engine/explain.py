"""A plain-language account of a build, for the describe endpoint's ``summary``.

The summary is one line per topic: the target and task, the rows, the features and
the columns left out, the approaches tried, and the choice.
"""

from plexe_tui.engine.metrics import find_metric
from plexe_tui.engine.records import ApproachResult, BuildPlan, BuildRecord

_MAX_NAMED_FEATURES = 12


def summarise(record: BuildRecord) -> str:
    """Return a few lines that tell a person what the build did and why."""
    plan = record.plan
    lines = [_target_line(plan), _rows_line(plan), _features_line(plan)]
    dropped = _dropped_line(plan)
    if dropped:
        lines.append(dropped)
    lines.extend(_search_lines(record))
    return "\n".join(lines)


def _target_line(plan: BuildPlan) -> str:
    if plan.task == "regression":
        task = "a number (regression)"
    elif plan.task == "binary":
        assert plan.classes is not None
        first, second = plan.classes
        task = f"one of two classes, {first!r} or {second!r} (binary classification)"
    else:
        task = f"one of {len(plan.classes or [])} classes (multiclass classification)"
    return (
        f"The model predicts {plan.target!r}, because {plan.target_reason}. It "
        f"predicts {task}, because {plan.task_reason}."
    )


def _rows_line(plan: BuildPlan) -> str:
    line = f"It learned from {plan.rows} rows"
    if plan.rows_dropped:
        line += (
            f"; {plan.rows_dropped} rows were left out because their target is "
            "missing or their class has too few rows"
        )
    return line + "."


def _features_line(plan: BuildPlan) -> str:
    names = plan.features[:_MAX_NAMED_FEATURES]
    listed = ", ".join(repr(name) for name in names)
    if len(plan.features) > len(names):
        listed += f" and {len(plan.features) - len(names)} more"
    line = f"It uses {len(plan.features)} features: {listed}."
    for name, date in plan.date_features.items():
        line += f" The dates in {name!r} become their {', '.join(date.parts)}."
    return line


def _dropped_line(plan: BuildPlan) -> str | None:
    dropped = [
        f"{column.column!r} ({column.reason})"
        for column in plan.dropped_columns
        if column.column != plan.target
    ]
    if not dropped:
        return None
    line = f"Columns left out: {'; '.join(dropped)}."
    if plan.sample_rows:
        line += f" Columns were judged on the first {plan.sample_rows} rows."
    return line


def _search_lines(record: BuildRecord) -> list[str]:
    state = record.state
    metric = find_metric(record.plan.metric)
    direction = "higher" if metric.greater_is_better else "lower"
    lines = []
    if state.approaches:
        validation = f" with {state.validation}" if state.validation else ""
        tried = "; ".join(_approach_text(result) for result in state.approaches)
        lines.append(
            f"Approaches were compared on {metric.label} ({direction} is better)"
            f"{validation}: {tried}."
        )
    if state.status == "completed" and state.chosen:
        chosen = next(a for a in state.approaches if a.name == state.chosen)
        lines.append(
            f"It chose {chosen.name}, {chosen.description}. The reason: "
            f"{state.chosen_reason}."
        )
    elif state.status == "failed":
        lines.append(f"The build failed: {state.error}")
    elif state.status == "cancelled":
        lines.append("The build was cancelled.")
    else:
        lines.append(f"The build is {state.status}; this account grows as it runs.")
    return lines


def _approach_text(result: ApproachResult) -> str:
    if result.skipped_reason:
        return f"{result.name} {result.skipped_reason}"
    if result.error:
        return f"{result.name} failed ({result.error})"
    spread = f" ± {result.metric_std:.4f}" if result.metric_std is not None else ""
    seconds = f"{result.seconds:.1f} s"
    return f"{result.name} scored {result.metric_value:.4f}{spread} in {seconds}"
