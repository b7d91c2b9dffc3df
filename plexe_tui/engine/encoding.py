"""The preprocessing step of every model: imputation, scaling and one-hot encoding.

``TableEncoder`` is a scikit-learn transformer, so cross-validation fits it on each
training fold. It does what a ColumnTransformer of SimpleImputer, StandardScaler
and OneHotEncoder would do, and adds ``encode_row``, which encodes one request row
in microseconds instead of the milliseconds that scikit-learn's per-step input
validation takes. ``transform`` and ``encode_row`` give the same numbers; a test
checks it.

Numeric columns: missing values become the training median (0 when a column has
no value), then optionally ``(x - mean) / std``. Categorical columns: missing
values become the most frequent category. A column with more than
``max_categories`` categories keeps the most frequent ``max_categories - 1`` and
puts the rest, and categories first seen after training, in one "other" column.
Without an "other" column an unseen category encodes as all zeros.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

DEFAULT_MAX_CATEGORIES = 30


class TableEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Encodes a DataFrame of numeric and categorical columns as a float matrix."""

    def __init__(
        self,
        numeric: Sequence[str] = (),
        categorical: Sequence[str] = (),
        scale: bool = False,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.scale = scale
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: Any = None) -> "TableEncoder":
        """Learn the medians, scales and categories from the training rows."""
        count = len(self.numeric)
        self.medians_ = np.zeros(count)
        self.means_ = np.zeros(count)
        self.scales_ = np.ones(count)
        for index, name in enumerate(self.numeric):
            self._fit_numbers(_float_values(X[name]), index)

        self.lookups_: list[dict[str, int]] = []
        self.fill_values_: list[str | None] = []
        self.other_positions_: list[int | None] = []
        for name in self.categorical:
            self._fit_categories(X[name])
        widths = [self._width(index) for index in range(len(self.categorical))]
        self.offsets_ = np.cumsum([len(self.numeric), *widths])[:-1].tolist()
        self.n_features_out_ = len(self.numeric) + sum(widths)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Return the encoded rows of ``X`` as a float64 matrix."""
        # Columns are written into the output one at a time and changed in
        # place, so that no temporary copy of the numeric block is made.
        output = np.zeros((len(X), self.n_features_out_))
        for index, name in enumerate(self.numeric):
            column = output[:, index]
            column[:] = _float_values(X[name])
            column[np.isnan(column)] = self.medians_[index]
            column -= self.means_[index]
            column /= self.scales_[index]
        rows = np.arange(len(X))
        for index, name in enumerate(self.categorical):
            codes = self._codes(X[name], index)
            known = codes >= 0
            output[rows[known], self.offsets_[index] + codes[known]] = 1.0
        return output

    def encode_row(
        self, numbers: Sequence[float], categories: Sequence[Any]
    ) -> np.ndarray:
        """Return one row, given as model input values in column order, encoded."""
        output = np.zeros((1, self.n_features_out_))
        values = np.asarray(numbers, dtype=np.float64)
        filled = np.where(np.isnan(values), self.medians_, values)
        output[0, : len(self.numeric)] = (filled - self.means_) / self.scales_
        for index, value in enumerate(categories):
            code = self._row_code(value, index)
            if code is not None:
                output[0, self.offsets_[index] + code] = 1.0
        return output

    def _fit_numbers(self, values: np.ndarray, index: int) -> None:
        present = values[~np.isnan(values)]
        # A column without values is filled with 0.
        median = float(np.median(present)) if len(present) else 0.0
        self.medians_[index] = median
        if not self.scale or not len(values):
            return
        filled = np.where(np.isnan(values), median, values)
        self.means_[index] = filled.mean()
        deviation = filled.std()
        self.scales_[index] = deviation if deviation > 0 else 1.0

    def _fit_categories(self, column: pd.Series) -> None:
        counts = column.value_counts(dropna=True)
        # A categorical column also counts the categories that have no row here.
        counts = counts[counts > 0]
        ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        frequent = [str(value) for value, _ in ordered]
        other_position = None
        if len(frequent) > self.max_categories:
            frequent = frequent[: self.max_categories - 1]
            other_position = len(frequent)
        self.lookups_.append({value: code for code, value in enumerate(frequent)})
        self.fill_values_.append(frequent[0] if frequent else None)
        self.other_positions_.append(other_position)

    def _width(self, index: int) -> int:
        other = self.other_positions_[index] is not None
        return len(self.lookups_[index]) + int(other)

    def _codes(self, column: pd.Series, index: int) -> np.ndarray:
        """Return each value's one-hot position in its column, -1 for none."""
        if isinstance(column.dtype, pd.CategoricalDtype):
            return self._categorical_codes(column, index)
        fill = self.fill_values_[index]
        values = column.astype(object)
        if fill is not None:
            values = values.where(values.notna(), fill)
        codes = values.map(self.lookups_[index])
        other = self.other_positions_[index]
        unknown = codes.isna() & values.notna()
        codes = codes.where(~unknown, -1 if other is None else other)
        result: np.ndarray = codes.fillna(-1).to_numpy(dtype=np.int64)
        return result

    def _categorical_codes(self, column: pd.Series, index: int) -> np.ndarray:
        """Return the positions of a categorical column; categories are looked up."""
        per_category = [
            self._row_code(category, index) for category in column.cat.categories
        ]
        missing = self._row_code(None, index)
        lookup = np.asarray(
            [-1 if code is None else code for code in [*per_category, missing]],
            dtype=np.int64,
        )
        # Code -1 marks a missing value, which the last entry of lookup encodes.
        codes: np.ndarray = lookup[column.cat.codes.to_numpy()]
        return codes

    def _row_code(self, value: Any, index: int) -> int | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = self.fill_values_[index]
            if value is None:
                return None
        code = self.lookups_[index].get(value)
        if code is None:
            return self.other_positions_[index]
        return code


def _float_values(column: pd.Series) -> np.ndarray:
    values: np.ndarray = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return values
