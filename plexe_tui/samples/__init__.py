"""Sample datasets shipped with the app, so a first build needs no file of one's own."""

from __future__ import annotations

from pathlib import Path

SAMPLE_DATASET = Path(__file__).with_name("breast_cancer.csv")
"""569 breast tumour biopsies (Wisconsin Diagnostic Breast Cancer data, as shipped
by scikit-learn): 30 cell measurements and the `diagnosis`, benign or malignant."""
SAMPLE_GOAL = "predict the diagnosis from the cell measurements"
SAMPLE_NAME = "sample-cancer"
