"""Write the benchmark datasets as CSV files, one per dataset, into a folder.

Runs inside the benchmark's own virtual environment, which has the packages that
ship these datasets (scikit-learn, palmerpenguins, vega_datasets, statsmodels), so
that none of them has to be installed in the project's environment. Every dataset
is read from files inside those packages and needs no network.

Usage: python export_datasets.py OUTPUT_FOLDER NAME [NAME ...]
"""

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def breast_cancer() -> pd.DataFrame:
    """Wisconsin diagnostic breast cancer, 569 rows, binary ``diagnosis``."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame["diagnosis"] = bunch.target.map(dict(enumerate(bunch.target_names)))
    return frame


def wine() -> pd.DataFrame:
    """UCI wine recognition, 178 rows, three classes in ``cultivar``."""
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame["cultivar"] = bunch.target.map(dict(enumerate(bunch.target_names)))
    return frame


def digits() -> pd.DataFrame:
    """Optical recognition of handwritten digits, 1797 rows of 8x8 pixels."""
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame["digit"] = bunch.target
    return frame


def diabetes() -> pd.DataFrame:
    """Efron et al. diabetes data, 442 rows, regression on ``progression``."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    frame = bunch.frame.drop(columns="target")
    frame["progression"] = bunch.target
    return frame


def penguins() -> pd.DataFrame:
    """Palmer penguins, 344 rows with missing values, three ``species``."""
    from palmerpenguins import load_penguins

    return load_penguins()


def cars() -> pd.DataFrame:
    """Vega's cars, regression on ``Miles_per_Gallon``.

    The 8 rows without a target are dropped. The free-text ``Name`` is dropped
    because it is nearly unique per row, and the ``Year`` date becomes the model
    year as an integer.
    """
    from vega_datasets import data

    frame = data.cars()
    frame = frame.dropna(subset=["Miles_per_Gallon"]).drop(columns="Name")
    frame["Year"] = pd.to_datetime(frame["Year"]).dt.year
    return frame.reset_index(drop=True)


def seattle_weather() -> pd.DataFrame:
    """Vega's Seattle weather 2012-2015, 1461 days, five classes in ``weather``.

    The ``date`` column becomes ``year`` and ``month`` integers, which every system
    can use; the labelling of the classes differs between years.
    """
    from vega_datasets import data

    frame = data.seattle_weather()
    dates = pd.to_datetime(frame.pop("date"))
    frame.insert(0, "month", dates.dt.month)
    frame.insert(0, "year", dates.dt.year)
    return frame


def fair() -> pd.DataFrame:
    """statsmodels' fair (Redbook 1974 survey), 6366 rows, binary ``had_affair``.

    ``had_affair`` is "yes" when ``affairs`` is above 0; ``affairs`` is dropped.
    """
    import statsmodels.api as sm

    frame = sm.datasets.fair.load_pandas().data
    frame["had_affair"] = (frame.pop("affairs") > 0).map({True: "yes", False: "no"})
    return frame


LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "breast_cancer": breast_cancer,
    "wine": wine,
    "digits": digits,
    "diabetes": diabetes,
    "penguins": penguins,
    "cars": cars,
    "seattle_weather": seattle_weather,
    "fair": fair,
}


def main(argv: list[str]) -> int:
    """Write each named dataset to OUTPUT_FOLDER/NAME.csv and return 0."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name in argv[1:]:
        if name not in LOADERS:
            print(f"unknown dataset {name!r}; use one of {list(LOADERS)}")
            return 2
        LOADERS[name]().to_csv(folder / f"{name}.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
