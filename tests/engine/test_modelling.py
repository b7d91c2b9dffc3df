"""The modelling parts without a server: encoder, metrics, ensemble selection,
the single-row fast path, validation splits, time estimates and dates."""

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from threadpoolctl import threadpool_limits

from plexe_tui.engine.approaches import approaches, make_pipeline
from plexe_tui.engine.budget import TimeEstimator
from plexe_tui.engine.dates import date_part_values, detect_date
from plexe_tui.engine.encoding import TableEncoder
from plexe_tui.engine.ensemble import WeightedEnsemble, select_ensemble
from plexe_tui.engine.inputs import ModelColumns
from plexe_tui.engine.metrics import METRICS, find_metric
from plexe_tui.engine.row_models import row_model
from plexe_tui.engine.scoring import score
from plexe_tui.engine.validation import HOLDOUT_ABOVE_ROWS, make_validation


def mixed_frame(rows: int, seed: int) -> pd.DataFrame:
    """Numeric columns with gaps, and categorical ones with many and rare values."""
    generator = np.random.default_rng(seed)
    numbers = generator.normal(size=(rows, 2))
    numbers[generator.random(rows) < 0.2, 0] = np.nan
    colours = generator.choice(["red", "green", "blue", np.nan], size=rows)
    codes = [f"c{value}" for value in generator.integers(0, 60, size=rows)]
    return pd.DataFrame(
        {
            "a": numbers[:, 0],
            "b": numbers[:, 1],
            "colour": pd.Series(colours, dtype=object).replace("nan", np.nan),
            "code": pd.Series(codes, dtype=object),
        }
    )


COLUMNS = ModelColumns(numeric=["a", "b"], categorical=["colour", "code"])


def as_categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the frame with categorical columns, as training data has them."""
    return frame.astype({name: "category" for name in COLUMNS.categorical})


@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize("categorical", [False, True])
def test_encoder_row_matches_transform(scale: bool, categorical: bool) -> None:
    train, test = mixed_frame(300, seed=1), mixed_frame(50, seed=2)
    test.loc[0, "code"] = "never seen"
    test.loc[1, "colour"] = np.nan
    encoder = TableEncoder(COLUMNS.numeric, COLUMNS.categorical, scale=scale)
    encoder.fit(as_categorical(train) if categorical else train)
    matrix = encoder.transform(as_categorical(test) if categorical else test)

    assert not np.isnan(matrix).any()
    for index, row in test.iterrows():
        encoded = encoder.encode_row([row["a"], row["b"]], [row["colour"], row["code"]])
        np.testing.assert_allclose(encoded[0], matrix[index])


def test_encoder_groups_rare_categories() -> None:
    encoder = TableEncoder([], ["code"], max_categories=5).fit(mixed_frame(300, 1))
    width = encoder.transform(mixed_frame(10, 3)).shape[1]
    assert width == 5
    unseen = encoder.encode_row([], ["never seen"])
    assert unseen[0, -1] == 1.0


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_scores_match_scikit_learn(name: str) -> None:
    metric = METRICS[name]
    generator = np.random.default_rng(0)
    if "regression" in metric.tasks:
        y = generator.uniform(1, 10, 200)
        predictions = y + generator.normal(size=200)
        expected = {
            "rmse": sk.root_mean_squared_error,
            "mse": sk.mean_squared_error,
            "mae": sk.mean_absolute_error,
            "mape": sk.mean_absolute_percentage_error,
            "r2": sk.r2_score,
        }[name](y, predictions)
        assert score(metric, y, predictions, "regression") == pytest.approx(expected)
        return

    y = generator.integers(0, 3, 200)
    probabilities = generator.dirichlet([1, 1, 1], size=200)
    probabilities[np.arange(200), y] += 0.5
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    labels = probabilities.argmax(axis=1)
    expected = {
        "accuracy": sk.accuracy_score(y, labels),
        "balanced_accuracy": sk.balanced_accuracy_score(y, labels),
        "f1": sk.f1_score(y, labels, average="macro"),
        "f1_macro": sk.f1_score(y, labels, average="macro"),
        "precision": sk.precision_score(y, labels, average="macro"),
        "recall": sk.recall_score(y, labels, average="macro"),
        "roc_auc": sk.roc_auc_score(y, probabilities, multi_class="ovr"),
        "log_loss": sk.log_loss(y, probabilities),
    }[name]
    assert score(metric, y, probabilities, "multiclass") == pytest.approx(expected)


def test_binary_f1_uses_positive_class() -> None:
    y = np.array([0, 0, 1, 1, 1])
    probabilities = np.array(
        [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]]
    )
    expected = sk.f1_score(y, probabilities.argmax(axis=1))
    assert score(find_metric("f1"), y, probabilities, "binary") == pytest.approx(
        expected
    )


def test_multiclass_roc_auc_skips_absent_class() -> None:
    y = np.array([0, 0, 1, 1])
    probabilities = np.array(
        [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1]]
    )
    assert score(find_metric("roc_auc"), y, probabilities, "multiclass") == 1.0


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("f1_score", "f1"),
        ("R2_Score", "r2"),
        ("MAPE", "mape"),
        ("mean absolute percentage error", "mape"),
        ("macro-f1", "f1_macro"),
        ("neg_log_loss", "log_loss"),
        ("balanced_accuracy_score", "balanced_accuracy"),
        ("precision_score", "precision"),
        ("recall_score", "recall"),
    ],
)
def test_metric_aliases(alias: str, canonical: str) -> None:
    assert find_metric(alias).name == canonical


def test_ensemble_selection_mixes_complementary_models() -> None:
    generator = np.random.default_rng(0)
    y = generator.normal(size=400)
    noise = generator.normal(size=400)
    first, second = y + noise, y - noise + generator.normal(scale=0.1, size=400)
    validation = make_validation("regression", y)
    selection = select_ensemble(
        [first, second], y, validation, find_metric("rmse"), "regression"
    )
    assert selection is not None
    weights = dict(selection.weights)
    assert set(weights) == {0, 1}
    assert sum(weights.values()) == pytest.approx(1.0)
    assert np.mean(selection.split_scores) < sk.root_mean_squared_error(y, first)


def test_ensemble_selection_declines_copies() -> None:
    y = np.arange(100, dtype=float)
    predictions = y + 1.0
    validation = make_validation("regression", y)
    metric = find_metric("rmse")
    selection = select_ensemble(
        [predictions, predictions.copy()], y, validation, metric, "regression"
    )
    assert selection is None


def test_row_fast_path_matches_pipeline() -> None:
    # OpenMP threads that spin while other processes use the cores make gradient
    # boosting very slow, and one thread is fast on this little data.
    with threadpool_limits(limits=1):
        check_row_fast_path()


def check_row_fast_path() -> None:
    train, test = mixed_frame(400, seed=4), mixed_frame(20, seed=5)
    y = (train["b"] > 0).astype(int).to_numpy() + (train["colour"] == "red").to_numpy()
    models = [approach for approach in approaches(6) if not approach.is_ensemble]
    pipelines = [
        make_pipeline(approach, "multiclass", COLUMNS, rows=len(train)).fit(train, y)
        for approach in models[1:]
    ]
    ensemble = WeightedEnsemble(pipelines[:3], [0.5, 0.3, 0.2], "multiclass")

    for model in [*pipelines, ensemble]:
        fast = row_model(model, "multiclass")
        assert fast is not None
        expected = model.predict_proba(test)
        for index, row in test.iterrows():
            predicted = fast.predict([row["a"], row["b"]], [row["colour"], row["code"]])
            np.testing.assert_allclose(predicted[0], expected[index], atol=1e-9)


def test_validation_switches_to_holdout() -> None:
    small = make_validation("binary", np.array([0, 1] * 500))
    assert len(small.splits) == 5
    large_y = np.array([0, 1] * (HOLDOUT_ABOVE_ROWS // 2 + 1))
    large = make_validation("binary", large_y)
    assert len(large.splits) == 1
    train, test = large.splits[0]
    assert len(test) == pytest.approx(0.2 * len(large_y), abs=1)
    assert set(train).isdisjoint(test)
    assert "holdout" in large.description


def test_time_estimate_scales_with_cost() -> None:
    candidates = approaches(6)
    baseline, linear, boosting, forest = candidates[:4]
    estimator = TimeEstimator(refit_factor=0.25)
    estimator.record(baseline, 0.1)
    assert estimator.validation_seconds(linear) == pytest.approx(
        linear.cost * 0.1 / baseline.cost
    )
    estimator.record(linear, 0.2)
    estimator.record(boosting, 1.0)
    # The slowest time per cost unit of the approaches after the baseline wins.
    slowest = max(0.2 / linear.cost, 1.0 / boosting.cost)
    assert estimator.validation_seconds(boosting) == 1.0
    assert estimator.validation_seconds(forest) == pytest.approx(forest.cost * slowest)
    assert estimator.refit_seconds(boosting) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("values", "parts"),
    [
        (
            ["2024-01-05", "2024-02-07", "2023-12-31"],
            ["year", "month", "day", "weekday"],
        ),
        (["05/01/2024 10:30", "06/02/2024 11:45"], ["month", "day", "weekday", "hour"]),
        (
            ["2024-01-05T10:00:00Z", "2024-03-05T10:00:00+02:00"],
            ["month", "weekday", "hour"],
        ),
        (["red", "green"], None),
        (["12", "7"], None),
    ],
)
def test_date_detection(values: list[str], parts: list[str] | None) -> None:
    feature = detect_date(pd.Series(values, name="when"))
    if parts is None:
        assert feature is None
        return
    assert feature is not None
    assert feature.parts == parts
    assert date_part_values(values[0], feature) is not None
    assert date_part_values("not a date", feature) is None
