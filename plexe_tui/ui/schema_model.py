"""The state behind the schema editor: which column is the target, which are left out.

Kept apart from the widget so the rules (and their JSON form) can be tested and
reused without a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from plexe_tui.ui.preview import BOOL, FLOAT, INT, STR, Column

TYPES = (INT, FLOAT, STR, BOOL)
ROLE_FEATURE, ROLE_TARGET, ROLE_EXCLUDED = "feature", "target", "excluded"

# Metric the local engine optimises when none is given, per kind of target.
DEFAULT_METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
_WORD = re.compile(r"[a-z0-9]+")
_MAX_PHRASE_WORDS = 4


def normalize_name(name: str) -> str:
    """Lower-case a name and drop everything but letters and digits."""
    return "".join(_WORD.findall(name.lower()))


def column_named_in_goal(goal: str, columns: list[str]) -> str | None:
    """Return the column the goal names, longest match first, if any.

    Phrases of one to four goal words are joined and compared with column names
    ignoring case, spaces and underscores, so "body mass g" finds `body_mass_g`.
    """
    words = _WORD.findall(goal.lower())
    names = {normalize_name(column): column for column in columns}
    best: tuple[int, str] | None = None
    for size in range(1, _MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            phrase = "".join(words[start : start + size])
            column = names.get(phrase)
            if column is not None and (best is None or len(phrase) > best[0]):
                best = (len(phrase), column)
    return best[1] if best else None


@dataclass
class SchemaModel:
    """Columns of the dataset with their types and roles."""

    columns: list[Column] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    excluded: set[str] = field(default_factory=set)

    @classmethod
    def from_columns(cls, columns: list[Column]) -> SchemaModel:
        """Start with every column a feature, at its guessed type."""
        return cls(columns=columns, types={c.name: c.type for c in columns})

    def role(self, name: str) -> str:
        """Return the role of a column: feature, target or excluded."""
        if name == self.target:
            return ROLE_TARGET
        if name in self.excluded:
            return ROLE_EXCLUDED
        return ROLE_FEATURE

    def set_target(self, name: str) -> None:
        """Make a column the target; making the target the target again unsets it."""
        self.target = None if self.target == name else name
        self.excluded.discard(name)

    def toggle_excluded(self, name: str) -> None:
        """Leave a feature out, or bring it back."""
        if name == self.target:
            self.target = None
        if name in self.excluded:
            self.excluded.remove(name)
        else:
            self.excluded.add(name)

    def cycle_type(self, name: str) -> None:
        """Change a column's type to the next of int, float, str, bool."""
        current = self.types.get(name, STR)
        index = TYPES.index(current) if current in TYPES else -1
        self.types[name] = TYPES[(index + 1) % len(TYPES)]

    def input_schema(self) -> dict[str, str] | None:
        """Return the features as a schema; None until a role or type is changed."""
        retyped = any(self.types.get(c.name) != c.type for c in self.columns)
        if self.target is None and not self.excluded and not retyped:
            return None
        return {
            column.name: self.types[column.name]
            for column in self.columns
            if self.role(column.name) == ROLE_FEATURE
        }

    def output_schema(self) -> dict[str, str] | None:
        """Return the target as a schema, or None when the server should infer it."""
        if self.target is None:
            return None
        return {self.target: self.types[self.target]}

    def apply_schemas(
        self, input_schema: dict[str, Any] | None, output_schema: dict[str, Any] | None
    ) -> None:
        """Set roles and types from schemas typed as JSON; unknown names are ignored."""
        known = {column.name for column in self.columns}
        self.target = None
        for name, kind in (output_schema or {}).items():
            if name in known:
                self.target = name
                self._set_type(name, kind)
                break

        self.excluded = set()
        if input_schema:
            features = {name for name in input_schema if name in known}
            self.excluded = known - features - {self.target or ""}
            for name in features:
                self._set_type(name, input_schema[name])

    def _set_type(self, name: str, kind: Any) -> None:
        aliases = {"integer": INT, "number": FLOAT, "string": STR, "boolean": BOOL}
        text = str(kind).lower()
        text = aliases.get(text, text)
        if text in TYPES:
            self.types[name] = text

    def task_of(self, name: str | None) -> str | None:
        """Guess the task a target column makes: binary, multiclass or regression."""
        column = next((c for c in self.columns if c.name == name), None)
        if column is None:
            return None
        kind = self.types.get(column.name, column.type)
        if kind in (STR, BOOL) or (kind == INT and column.looks_categorical):
            return "binary" if column.distinct <= 2 else "multiclass"
        return "regression"
