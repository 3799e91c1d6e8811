"""The person's language: `/language` to change it at any step, and crisis lines in their words.

A person is served in the locale Telegram gives on first contact (`Engine.new_progress`),
when the curriculum has it. `/language` shows one button per locale, each in its own name
("English", "Español"); `/language es` (or `/language español`) switches at once. Progress is
kept: every locale has the same modules and steps (`state.curriculum.locales` sees to it),
so the person stays on the step they were on and sees it again in the new language.

Crisis lines are the configuration's; a line's name and details may also be given per
locale (`crisis.resources.<key>.languages` in the config), so a Spanish speaker reads
"marque 2 para español" under the same number. `US_SPANISH` is that wording for the
United States defaults.
"""

from __future__ import annotations

from state.contracts import Button, Command, Input, Press
from state.curriculum.model import Curriculum
from state.engine.callbacks import callback, parse

COMMAND = "language"
PREFIX = "l"  # callback data `l:<locale>` (state.engine.callbacks)
GLOBE = "🌐"

# The United States defaults (state.engine.safety.detection.US_RESOURCES) in Spanish: (name,
# details). 988 "press 2 for Spanish" and SAMHSA's Spanish service: reference/craft.md, safety
# table. The hotline's Spanish-speaking advocates: thehotline.org ("Hablamos español").
US_SPANISH: dict[str, tuple[str, str]] = {
    "emergency": ("911", "peligro inmediato o emergencia médica"),
    "lifeline": ("988 Línea de Prevención del Suicidio y Crisis",
                 "llame al 988 y marque 2 para hablar en español, o mande un texto al 988; chat en"
                 " 988lifeline.org; también atiende crisis por alcohol o drogas"),
    "dv_hotline": ("Línea Nacional contra la Violencia Doméstica",
                   "1-800-799-7233 (TTY 1-800-787-3224), atienden en español; texto START al 88788;"
                   " chat en thehotline.org"),
    "treatment_line": ("Línea Nacional de Ayuda de SAMHSA",
                       "1-800-662-4357 (TTY 1-800-487-4889), gratis, confidencial, las 24 horas, en"
                       " inglés y en español; le ayuda a encontrar tratamiento, no da consejería"),
    # Routes to people (US_PEOPLE). Al-Anon, Nar-Anon and SMART Recovery list Spanish-speaking
    # meetings on their sites; FindTreatment.gov has a Spanish version (findtreatment.gov, "Español").
    "counsellor": ("Un consejero que conozca CRAFT",
                   "pida a su médico o a una línea de ayuda un consejero que ofrezca CRAFT o sesiones"
                   " para familias. El equipo de CRAFT tiene una lista en robertjmeyersphd.com (en inglés)"),
    "family_groups": ("Grupos para familias",
                      "Al-Anon (al-anon.org), Nar-Anon (nar-anon.org) y SMART Recovery Family &"
                      " Friends (smartrecovery.org); hay reuniones gratis cerca de usted y en línea,"
                      " algunas en español"),
    "treatment_locator": ("FindTreatment.gov",
                          "el mapa gratis y confidencial de SAMHSA para encontrar tratamiento cerca de usted,"
                          " con filtros de medicinas y de pago, en findtreatment.gov (también en español)"),
}
US_WORDING: dict[str, dict[str, tuple[str, str]]] = {"es": US_SPANISH}


def wants(message: Input) -> bool:
    """Whether this input is /language or one of its buttons."""
    if isinstance(message, Command):
        return message.name == COMMAND
    return isinstance(message, Press) and parse(message.data)[0] == PREFIX


def chosen(message: Input, curriculum: Curriculum) -> str | None:
    """The locale asked for (a button, or `/language es` / `/language Español`), None if none."""
    if isinstance(message, Press):
        wanted = parse(message.data)[1]
    elif isinstance(message, Command):
        wanted = message.arg.strip().lower()
    else:
        return None
    for code, content in curriculum.locales.items():
        name = content.locale.name.lower() if content.locale else ""
        if wanted in (code, name) or (wanted and wanted.split("-")[0] == code):
            return code
    return None


def choices(curriculum: Curriculum, current: str) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The /language message: every locale's own name, the current one marked, a button each."""
    names = {code: (c.locale.name if c.locale else code) for code, c in curriculum.locales.items()}
    text = f"{GLOBE} " + " · ".join(f"**{n}** ✓" if code == current else n for code, n in names.items())
    buttons = tuple((Button(name, callback(PREFIX, code)),) for code, name in names.items())
    return text, buttons


def switched(curriculum: Curriculum, code: str) -> str:
    """What is said once the language changed: its own name, ticked."""
    content = curriculum.locales[code]
    return f"{GLOBE} {content.locale.name if content.locale else code} ✓"
