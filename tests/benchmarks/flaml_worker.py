"""Fit FLAML on one fold's training CSV and write its test-set predictions as JSON.

Runs inside the benchmark's own virtual environment, never the project's, so FLAML
and its dependencies stay out of the project's environment. The output JSON has
``classes`` and ``probabilities`` (one row per test row, columns in ``classes``
order) for classification, or ``predictions`` for regression, plus the best
estimator, its configuration and the seconds that ``AutoML.fit`` took.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd
from flaml import AutoML

FLAML_TASKS = {
    "binary": "classification",
    "multiclass": "classification",
    "regression": "regression",
}


def main() -> None:
    """Parse the options, fit FLAML, predict the test rows and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=Path, required=True, help="training CSV")
    parser.add_argument("--test", type=Path, required=True, help="test CSV")
    parser.add_argument("--target", required=True, help="target column")
    parser.add_argument("--task", choices=sorted(FLAML_TASKS), required=True)
    parser.add_argument("--metric", required=True, help="FLAML metric name")
    parser.add_argument("--budget", type=float, required=True, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True, help="output JSON")
    options = parser.parse_args()

    classification = options.task != "regression"
    target_type = str if classification else float
    train = pd.read_csv(options.train, dtype={options.target: target_type})
    x_test = pd.read_csv(options.test)
    y_train = train.pop(options.target)
    x_train, x_test = as_categories(train, x_test)

    automl = AutoML()
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(
            x_train,
            y_train,
            task=FLAML_TASKS[options.task],
            metric=options.metric,
            time_budget=options.budget,
            seed=options.seed,
            verbose=0,
        )
    fit_seconds = time.monotonic() - started

    result: dict[str, object] = {
        "best_estimator": automl.best_estimator,
        "best_config": automl.best_config,
        "fit_seconds": round(fit_seconds, 3),
    }
    if classification:
        result["classes"] = [str(label) for label in automl.classes_]
        result["probabilities"] = automl.predict_proba(x_test).tolist()
    else:
        result["predictions"] = [float(value) for value in automl.predict(x_test)]
    options.output.write_text(json.dumps(result))


def as_categories(
    train: pd.DataFrame, test: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give text columns the category dtype, with the training set's categories.

    FLAML passes category columns to LightGBM and XGBoost as categorical features.
    A test value that the training set lacks becomes missing.
    """
    train = train.copy()
    test = test.copy()
    for column in train.columns:
        if pd.api.types.is_numeric_dtype(train[column]):
            continue
        categories = train[column].astype("category").cat.categories
        train[column] = pd.Categorical(train[column], categories=categories)
        test[column] = pd.Categorical(test[column], categories=categories)
    return train, test


if __name__ == "__main__":
    main()
