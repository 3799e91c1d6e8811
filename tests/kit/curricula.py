"""Where the curricula the tests use live, and the practice curriculum built from them.

`SAMPLE` is the small curriculum under tests/curriculum; `practice_curriculum` copies it and
adds the real onboarding's reminder questions and a `next` module that skips its homework
review once a reminder's review has happened (the reminder and check-in tests use it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "curriculum"
BUNDLED = REPO / "curriculum"
REAL_ONBOARDING = BUNDLED / "en" / "onboarding.yaml"


def practice_curriculum(root: Path) -> Path:
    """The sample curriculum, plus the real onboarding's reminder steps and a review-aware `next`."""
    shutil.copytree(SAMPLE, root)
    real = yaml.safe_load(REAL_ONBOARDING.read_text(encoding="utf-8"))
    added = [s for s in real["steps"] if s["id"] in ("reminders", "timezone", "city")]
    onboarding_file = root / "en" / "onboarding.yaml"
    onboarding = yaml.safe_load(onboarding_file.read_text(encoding="utf-8"))
    steps = onboarding["steps"]
    next(s for s in steps if s["id"] == "phone")["next"] = "reminders"
    at = next(i for i, s in enumerate(steps) if s["id"] == "ready")
    onboarding["steps"] = steps[:at] + added + steps[at:]
    onboarding_file.write_text(yaml.safe_dump(onboarding, allow_unicode=True, sort_keys=False))
    next_file = root / "en" / "next.yaml"
    module = yaml.safe_load(next_file.read_text(encoding="utf-8"))
    review = next(s for s in module["steps"] if s["id"] == "review")
    review["cases"].insert(0, {"when": {"key": "homework_reviewed", "equals": True}, "next": "reviewed"})
    review["cases"].insert(1, {"when": {"key": "homework_review_later", "equals": True}, "next": "hello"})
    module["steps"].insert(1, {"id": "reviewed", "kind": "message", "next": "hello",
                               "text": "You already told me how your practice went. Thank you."})
    next_file.write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False))
    return root
