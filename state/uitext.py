"""The bot's own words that every locale file must supply under `ui:`.

The engine never hard-codes what it says to people: menus, help and kind answers to odd
input live in `curriculum/<locale>/locale.yaml` so counselors and translators own them.
Each key maps to the placeholders it may use.
"""

from __future__ import annotations

UI_KEYS: dict[str, frozenset[str]] = {
    "welcome_back": frozenset(),
    "help": frozenset(),
    "menu_title": frozenset(),
    "menu_done": frozenset({"title"}),
    "menu_in_progress": frozenset({"title"}),
    "menu_open": frozenset({"title"}),
    "menu_locked": frozenset({"title", "needs"}),
    "menu_locked_answer": frozenset({"title", "needs"}),
    "menu_button": frozenset(),
    "onboarding_first": frozenset(),
    "progress": frozenset({"done", "total", "current"}),
    "progress_none": frozenset(),
    "module_done": frozenset({"title"}),
    "next_module_button": frozenset({"title"}),
    "all_done": frozenset({"title"}),
    "continue_button": frozenset(),
    "not_text": frozenset(),
    "old_button": frozenset(),
    "edited": frozenset(),
    "use_buttons": frozenset(),
    "scale_hint": frozenset({"min", "max"}),
    "text_expected": frozenset(),
    "too_long": frozenset({"limit"}),
    "checklist_done": frozenset(),
    "checklist_need_more": frozenset({"count"}),
    "quiz_correct": frozenset(),
    "quiz_try_again": frozenset(),
    "crisis_back_button": frozenset(),
    "crisis_back": frozenset(),
    "group_declined": frozenset(),
    "unknown_command": frozenset(),
    "safety": frozenset(),
    "error": frozenset(),
    "hide_done": frozenset(),
    "mydata_summary": frozenset({"started", "last_active", "finished", "answers", "events", "messages"}),
    "mydata_none": frozenset(),
    "delete_confirm": frozenset(),
    "delete_yes_button": frozenset(),
    "delete_no_button": frozenset(),
    "delete_confirm_again": frozenset(),
    "delete_final_button": frozenset(),
    "delete_done": frozenset(),
    "delete_cancelled": frozenset(),
    "delete_expired": frozenset(),
}
