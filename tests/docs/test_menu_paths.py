"""Menu paths written in the documentation are the menu's own names, so the docs cannot drift from navigation.py.

A path starting at the app's menu tab ("Circuits → Circuit Maintenance → Triage Queue") must name a group of that
tab and an item of that group, exactly as the menu does: the app's groups and items from navigation.py, beside
Nautobot's own groups of the same tab. A path into the app's group must start at the tab.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.test import SimpleTestCase
from nautobot.circuits.navigation import menu_items as nautobot_circuits_menu

from nautobot_ssot_circuit_maintenance.navigation import menu_items

REPO = Path(__file__).resolve().parents[2]
ARROW = " → "
DOC_FILES = sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]


def menu(*tabs_lists) -> dict[str, dict[str, set[str]]]:
    """Tab → group → item names of the given menus, merged as Nautobot merges them."""
    found: dict[str, dict[str, set[str]]] = {}
    for tabs in tabs_lists:
        for tab in tabs:
            for group in tab.groups:
                found.setdefault(tab.name, {}).setdefault(group.name, set()).update(item.name for item in group.items)
    return found


def longest_name_at(text: str, names: set[str]) -> str:
    """The longest of `names` that `text` starts with as whole words; "" when none."""
    matching = [name for name in names if re.match(re.escape(name) + r"(?!\w)", text)]
    return max(matching, key=len, default="")


def wrong_paths(text: str, where: str, app_menu: dict, full_menu: dict) -> list[str]:
    """Each menu path of `text` (emphasis marks ignored) that is not in the menu, or not written from its tab."""
    text = text.replace("*", "")
    wrong = []
    for tab, app_groups in app_menu.items():
        for found in re.finditer(rf"(?<!\w){re.escape(tab)}{ARROW}", text):
            rest = text[found.end() :]
            shown = f"{tab}{ARROW}{rest.splitlines()[0][:60] if rest else ''}"
            group = longest_name_at(rest, set(full_menu[tab]))
            if not group:
                wrong.append(f"{where}: {shown!r}: no group of the {tab!r} menu starts it")
                continue
            rest = rest[len(group) :]
            if rest.startswith(ARROW) and not longest_name_at(rest[len(ARROW) :], full_menu[tab][group]):
                wrong.append(f"{where}: {shown!r}: no item of {tab} → {group} starts it")
        for group in app_groups:
            for found in re.finditer(rf"(?<!{ARROW})(?<!\w){re.escape(group)}{ARROW}", text):
                line = text[found.start() :].splitlines()[0][:60]
                if not text[: found.start()].endswith(f"{tab}{ARROW}"):
                    wrong.append(f"{where}: {line!r}: write the path from its tab ({tab}{ARROW}{group}{ARROW}…)")
    return wrong


class DocsMenuPathsTestCase(SimpleTestCase):
    """Every menu path of docs/*.md and README.md into the app's menu tab exists in the menu."""

    def test_the_checker_reads_the_menu(self):
        app_menu = menu(menu_items)
        full_menu = menu(nautobot_circuits_menu, menu_items)
        self.assertIn("Triage Queue", app_menu["Circuits"]["Circuit Maintenance"])
        good = "Circuits → Circuit Maintenance → **Triage Queue** lists, and Circuits → Providers → Providers too."
        self.assertEqual(wrong_paths(good, "x", app_menu, full_menu), [])
        for bad in (
            "Circuits → Raw Notifications",
            "Circuits → Circuit Maintenance → Sources",
            "*Circuit Maintenance → Notification Sources*",
        ):
            with self.subTest(bad):
                self.assertEqual(len(wrong_paths(bad, "x", app_menu, full_menu)), 1)
        # Not menu paths: a job's name, and the job grouping under Jobs.
        other = "Jobs → Circuit Maintenance → Re-parse; the job Circuit Maintenance notifications → Nautobot"
        self.assertEqual(wrong_paths(other, "x", app_menu, full_menu), [])

    def test_docs_name_menu_paths_as_the_menu_does(self):
        app_menu = menu(menu_items)
        full_menu = menu(nautobot_circuits_menu, menu_items)
        self.assertGreater(len(DOC_FILES), 10)
        wrong = []
        for path in DOC_FILES:
            where = path.relative_to(REPO).as_posix()
            wrong += wrong_paths(path.read_text(encoding="utf-8"), where, app_menu, full_menu)
        self.assertEqual(wrong, [], "\n" + "\n".join(wrong))
