"""Spanish lessons as plain as the English ones: INFLESZ (Szigriszt-Pazos), through textstat.

The English lessons keep a Flesch-Kincaid grade median of 8 or less. Spanish has its own
measures of the same kind; INFLESZ reads Szigriszt-Pazos' score on a scale made for everyday
texts (55-65 normal, 65-80 fairly easy, over 80 very easy). The rule here: every message of a
translated module scores at least 55, and the module's median at least 65, which is where
the English ones stand. textstat counts Spanish syllables with pyphen, offline.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest
import yaml

from state.curriculum.translation import units

ROOT = Path(__file__).resolve().parents[1] / "curriculum" / "es"
MIN_WORDS = 5  # shorter texts (button labels) are too short to score
FLOOR, MEDIAN = 55.0, 65.0
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
LINE_END = re.compile(r"\s*\n\s*")


def inflesz(text: str) -> float:
    """The Szigriszt-Pazos score of a text; a line break ends a sentence, as for a reader."""
    import textstat

    textstat.set_lang("es")
    plain = PLACEHOLDER.sub("Ana", text).replace("**", "").replace("__", "")
    return float(textstat.szigriszt_pazos(LINE_END.sub(". ", plain.strip())))


def translated_modules() -> list[str]:
    return sorted(p.stem for p in ROOT.glob("*.yaml")
                  if p.stem not in ("locale", "translated_from", "coaching"))


@pytest.mark.parametrize("module_id", translated_modules())
def test_spanish_messages_are_plain_enough_to_read(module_id: str) -> None:
    data = yaml.safe_load((ROOT / f"{module_id}.yaml").read_text(encoding="utf-8"))
    scores = {u.text: inflesz(u.text) for u in units(data) if len(u.text.split()) >= MIN_WORDS}
    assert scores, f"{module_id}: nothing to score"
    hard = {t: s for t, s in scores.items() if s < FLOOR}
    assert hard == {}
    assert statistics.median(scores.values()) >= MEDIAN


def test_the_score_tells_plain_from_dense_spanish() -> None:
    plain = "Puede llamar a cualquier hora. Estamos aquí para ayudarle."
    dense = ("Las intervenciones farmacológicas integrales requieren consideraciones individualizadas"
             " respecto de las contraindicaciones y la administración correspondiente.")
    assert inflesz(dense) < FLOOR < MEDIAN < inflesz(plain)
