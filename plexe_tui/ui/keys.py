"""Key bindings: remaps from config.toml, and the lists the help and palette show.

Every binding of the app has an id. Bindings that do the same thing on several
screens share it (`refresh`, `resubmit`, `back`), so one remap in the `[keys]`
table of config.toml changes that key everywhere. Textual applies the remaps
through `App.set_keymap`; this module checks them first, because Textual
ignores an unknown id or key name without a word.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from textual.actions import ActionError
from textual.actions import parse as parse_action
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character
from textual.screen import Screen

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")
)
"""Keys with a name and no modifier, such as `f5`, `escape` and `pageup`."""

OWN_PACKAGE = "plexe_tui."

# Names a user knows the screens and widgets by, for key warnings. Any other
# class is named by its words, such as "the inference form" for InferenceForm.
PLACE_NAMES = {
    "PlexeApp": "every screen",
    "JobsScreen": "the job list",
    "JobTable": "the job list",
    "BuildScreen": "the build form",
    "SchemaEditor": "the build form's columns table",
    "DetailScreen": "the job detail",
    "HelpScreen": "the key help",
    "ChoiceScreen": "the confirmation questions",
    "FilePickerScreen": "the file picker",
}


@dataclass
class KeymapCheck:
    """The remaps that can be applied, and a warning for each one that cannot."""

    keymap: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KeyEntry:
    """One binding as the help screen and the palette show it."""

    node: DOMNode
    """The node the action runs in: the screen, a widget on it, or the app."""
    binding: Binding
    """The binding as declared, with its default key."""
    keys: tuple[str, ...]
    """The keys in effect after the remaps of config.toml."""
    default_keys: tuple[str, ...]

    @property
    def remapped(self) -> bool:
        """Whether config.toml changed this binding's keys."""
        return self.keys != self.default_keys


def is_valid_key(key: str) -> bool:
    """Return whether Textual can bind `key`, e.g. `f5`, `ctrl+r`, `?` or `slash`."""
    if len(key) == 1:
        return key.isprintable() and not key.isspace()
    *modifiers, base = key.split("+")
    if not base or any(modifier not in MODIFIERS for modifier in modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    if base in NAMED_KEYS:
        return True
    return key_to_character(REPLACED_KEYS.get(base, base)) is not None


def check_keymap(keys: Mapping[str, str], known_ids: Iterable[str]) -> KeymapCheck:
    """Keep the remaps with a known binding id and valid keys; warn about the rest."""
    known = set(known_ids)
    check = KeymapCheck()
    for binding_id, value in keys.items():
        if binding_id not in known:
            check.warnings.append(
                f"Ignored [keys] {binding_id} in config.toml: no binding has that "
                "id. Press ? to see the ids."
            )
            continue
        valid = []
        for key in (part.strip() for part in value.split(",")):
            if is_valid_key(key):
                valid.append(key)
            else:
                check.warnings.append(
                    f"Ignored key {key!r} of [keys] {binding_id} in config.toml: "
                    "it is not a key name. Examples: f5, ctrl+r, n, question_mark."
                )
        if valid:
            check.keymap[binding_id] = ",".join(valid)
    return check


def known_binding_ids(app_class: type[App[object]]) -> set[str]:
    """Return the ids of the bindings of the app and of every screen and widget."""
    ids = set()
    for cls in [app_class, *own_node_classes()]:
        ids.update(binding.id for binding in declared_bindings(cls) if binding.id)
    return ids


def find_clashes(app_class: type[App[object]], keymap: Mapping[str, str]) -> list[str]:
    """Return a warning for each key a remap takes from another binding.

    Textual gives the key to the remapped binding and leaves the other without
    it, and it reports nothing when both bindings have ids. Checked: bindings
    of one class, and those of each screen against the app's.
    """
    app_keys = _effective_keys(app_class, keymap)
    warnings = []
    for cls in sorted(own_node_classes(), key=lambda cls: cls.__name__):
        keys = _effective_keys(cls, keymap)
        if issubclass(cls, Screen):
            keys = {key: keys.get(key, []) + app_keys.get(key, []) for key in keys}
        warnings.extend(_clash_warnings(place_name(cls), keys, keymap))
    warnings.extend(_clash_warnings(place_name(app_class), app_keys, keymap))
    return warnings


def place_name(cls: type[DOMNode]) -> str:
    """Return the name a user knows a screen or widget by, e.g. `the job list`."""
    name = PLACE_NAMES.get(cls.__name__)
    if name is not None:
        return name
    words = re.findall(r"[A-Z][a-z0-9]*", cls.__name__) or [cls.__name__]
    return "the " + " ".join(word.lower() for word in words)


def _effective_keys(
    cls: type[DOMNode], keymap: Mapping[str, str]
) -> dict[str, list[Binding]]:
    """Return the bindings of a class by the key each has after the remaps."""
    by_key: dict[str, list[Binding]] = {}
    for binding in declared_bindings(cls):
        remap = keymap.get(binding.id) if binding.id else None
        keys = normalized_keys(remap) if remap else [binding.key]
        for key in keys:
            if binding not in by_key.setdefault(key, []):
                by_key[key].append(binding)
    return by_key


def _clash_warnings(
    where: str, by_key: dict[str, list[Binding]], keymap: Mapping[str, str]
) -> list[str]:
    warnings = []
    for key, bindings in by_key.items():
        names = {binding.id or binding.action for binding in bindings}
        remapped = [binding for binding in bindings if binding.id in keymap]
        if len(names) < 2 or not remapped:
            continue
        losers = [binding for binding in bindings if binding.id not in keymap]
        for loser in losers:
            warnings.append(
                f"[keys] {remapped[0].id} = {key} in config.toml takes {key} from "
                f"{loser.description} ({loser.id}) on {where}, which then has no "
                "key for it. Give one of them another key."
            )
    return warnings


def normalized_keys(keys: str) -> list[str]:
    """Return the keys of a comma-separated list as Textual names them."""
    return [binding.key for binding in Binding.make_bindings([Binding(keys, "")])]


def own_node_classes() -> set[type[DOMNode]]:
    """Return the screens and widgets of this package.

    Imports every module of the screens and widgets packages first, so that
    each of their classes exists to be found.
    """
    from plexe_tui.ui import screens, widgets

    for package in (screens, widgets):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")

    found: set[type[DOMNode]] = set()
    pending: list[type[DOMNode]] = [DOMNode]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return {cls for cls in found if cls.__module__.startswith(OWN_PACKAGE)}


def declared_bindings(cls: type[DOMNode]) -> list[Binding]:
    """Return the bindings a class declares itself, one per key."""
    return list(Binding.make_bindings(cls.__dict__.get("BINDINGS", [])))


def key_entries(node: DOMNode, keymap: Mapping[str, str]) -> list[KeyEntry]:
    """Return the bindings of `node` that have a description, grouped by id.

    A binding declared with several keys ("question_mark,f1") is one entry.
    Bindings that Textual marks as system bindings are left out.
    """
    groups: dict[str, list[Binding]] = {}
    for bindings in node._bindings.key_to_bindings.values():
        for binding in bindings:
            if binding.system or not binding.description:
                continue
            groups.setdefault(binding.id or binding.action, []).append(binding)

    entries = []
    for group in groups.values():
        binding = group[0]
        default_keys = tuple(dict.fromkeys(item.key for item in group))
        remap = keymap.get(binding.id) if binding.id else None
        keys = tuple(remap.split(",")) if remap else default_keys
        entries.append(KeyEntry(node, binding, keys, default_keys))
    return entries


def screen_key_entries(
    screen: Screen[object], keymap: Mapping[str, str]
) -> list[KeyEntry]:
    """Return the bindings of a screen and of the widgets of this package on it.

    A widget's bindings that it inherits from Textual (the arrow keys of a
    table, say) are left out: they have no id, and every such widget has them.
    """
    entries = key_entries(screen, keymap)
    seen: set[type[DOMNode]] = set()
    for widget in screen.walk_children(with_self=False):
        cls = type(widget)
        if cls in seen or not cls.__module__.startswith(OWN_PACKAGE):
            continue
        seen.add(cls)
        own = [entry for entry in key_entries(widget, keymap) if entry.binding.id]
        entries.extend(own)
    return entries


def is_enabled(entry: KeyEntry) -> bool:
    """Return whether the entry's action may run now, by its node's check_action."""
    try:
        target, name, parameters = parse_action(entry.binding.action)
    except ActionError:
        return False
    node = entry.node.app if target == "app" else entry.node
    return node.check_action(name, parameters) is not False


def key_display(app: App[object], key: str) -> str:
    """Return a key as the footer shows it, e.g. `^p` for ctrl+p."""
    return app.get_key_display(Binding(key, ""))
