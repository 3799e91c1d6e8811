"""One locale's crisis guide: its detector, texts and questions, with the configured resources.

The detector itself is in `detector` (what a message shows) and `words` (how phrases match).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from state.curriculum.helplines import ROLES, canonical, placeholders_of
from state.curriculum.schema import Crisis, Question
from state.engine.safety.detector import LEGACY_PATHWAY, CrisisDetector, Detection

__all__ = ["GENERAL", "US_PEOPLE", "US_RESOURCES", "CrisisDetector", "CrisisGuide", "Detection", "Resource"]

# -- resources and one locale's crisis guide ----------------------------------------------------

GENERAL = "safety"  # the pseudo-pathway of /safety: every resource, every next step


@dataclass(frozen=True)
class Resource:
    """A crisis line or service, from the configuration.

    `show_for` lists the pathways whose message shows it (and `safety` for /safety); empty
    means every one. `number` is what people call, filling `{key}` in lessons; without one the
    name stands in (the emergency number's name is its number: "911").
    """

    name: str
    details: str
    show_for: tuple[str, ...] = ()
    number: str = ""

    def shown_for(self, pathway: str) -> bool:
        """Whether this resource belongs in a pathway's message."""
        return not self.show_for or pathway in self.show_for

    def fills(self, key: str) -> dict[str, str]:
        """What this resource puts into a text: `{key}`, `{key_name}` and `{key_details}`."""
        number, name, details = placeholders_of(canonical(key))
        return {number: self.number or self.name, name: self.name, details: self.details}


# The United States defaults, as verified in the clinical reference (craft.md, safety table).
# Their keys are the roles lessons name (state.curriculum.helplines.ROLES).
US_RESOURCES: dict[str, Resource] = {
    "emergency": Resource("911", "immediate danger or medical emergency"),
    "lifeline": Resource(
        "988 Suicide & Crisis Lifeline",
        "call or text 988, chat at 988lifeline.org; covers substance-use crises too;"
        " press 1 for veterans, 2 for Spanish", number="988"),
    "dv_hotline": Resource(
        "National Domestic Violence Hotline",
        "1-800-799-7233 (TTY 1-800-787-3224), text START to 88788, chat at thehotline.org",
        ("violence", LEGACY_PATHWAY, GENERAL), number="1-800-799-7233"),
    "treatment_line": Resource(
        "SAMHSA National Helpline",
        "1-800-662-4357 (TTY 1-800-487-4889), free, confidential, 24/7, English and Spanish;"
        " treatment referral, not counselling",
        ("loved_one_emergency", "loved_one_suicide", LEGACY_PATHWAY, GENERAL), number="1-800-662-4357"),
}
EMERGENCY = "emergency"  # the resource whose name fills `{emergency}` ("911")
OWN_DANGER, VIOLENCE = "own_danger", "violence"
PEOPLE_PATHWAY = "people"  # no crisis pathway: routes to people show in lessons, never in a crisis message

# Routes to human help (state.curriculum.helplines.PEOPLE), offered in lessons and after a
# setback; configured under `people:`. United States defaults; each site is the service's own.
US_PEOPLE: dict[str, Resource] = {
    "counsellor": Resource(
        "A counselor who knows CRAFT",
        "ask your doctor or a treatment helpline for a counselor who offers CRAFT or family"
        " sessions. The CRAFT team lists trained counselors at robertjmeyersphd.com",
        (PEOPLE_PATHWAY,)),
    "family_groups": Resource(
        "Family groups",
        "Al-Anon (al-anon.org), Nar-Anon (nar-anon.org) and SMART Recovery Family & Friends"
        " (smartrecovery.org); each lists meetings near you and online, free",
        (PEOPLE_PATHWAY,)),
    "treatment_locator": Resource(
        "FindTreatment.gov",
        "SAMHSA's free, confidential map of treatment near you, with filters for medication"
        " and payment, at findtreatment.gov",
        (PEOPLE_PATHWAY,)),
}
ANY_REGION_PEOPLE: dict[str, Resource] = {
    **{key: US_PEOPLE[key] for key in ("counsellor", "family_groups")},  # international services
    "treatment_locator": Resource(
        "A treatment service near you",
        "your doctor or the treatment helpline above can point you to services near you",
        (PEOPLE_PATHWAY,)),
}


class CrisisGuide:
    """One locale's crisis words and texts together with the configured resources."""

    def __init__(self, crisis: Crisis, resources: Mapping[str, Resource] | None = None,
                 locale: str | None = None) -> None:
        """`locale`: the locale's code, for its trained crisis model (rules only without one)."""
        self.crisis = crisis
        self.detector = CrisisDetector.from_locale(crisis, locale)
        # Routes to people: the US ones with the US defaults; for another region that gives
        # none, wording that names no country's service (the operator should give its own).
        given = ({**US_PEOPLE, **US_RESOURCES} if resources is None
                 else {**ANY_REGION_PEOPLE, **resources})
        self.resources = {canonical(key): r for key, r in given.items()}  # `samhsa` as before
        # In the older layout of crisis words, with no violence pathway, own_danger holds
        # threats and violence too: there it shows the lines meant for violence as well.
        named = set(crisis.pathways) | {kind.pathway for kind in crisis.kinds.values()}
        self.stands_for = {OWN_DANGER: (OWN_DANGER, VIOLENCE)} if VIOLENCE not in named else {}

    @property
    def _emergency(self) -> Resource | None:
        return self.resources.get(EMERGENCY) or next(iter(self.resources.values()), None)

    @property
    def emergency(self) -> str:
        """The emergency number ("911"), for `{emergency}`: its number, else its name."""
        found = self._emergency
        return (found.number or found.name) if found else ""

    @property
    def fills(self) -> dict[str, str]:
        """Every crisis-line placeholder the resources fill (`{lifeline}`, `{lifeline_name}` ...).

        `{emergency}` is always filled: by the first resource when none has that key. A role
        the configuration leaves out (start-up refuses that when a lesson uses it, see
        `state.curriculum.helplines`) falls back to the emergency line rather than a blank.
        """
        emergency = self._emergency
        found = {EMERGENCY: self.emergency}
        for role in ROLES:
            if emergency is not None and role not in self.resources:
                found.update(emergency.fills(role))
        for key, resource in self.resources.items():
            found.update(resource.fills(key))
        return found

    def resource_lines(self, pathway: str, shown: set[str] | None = None) -> str:
        """The resources a pathway shows, one `**name**: details` line each.

        Resources whose ids are in `shown` are left out, and the others are added to it, so
        a message that follows another does not repeat its numbers.
        """
        pathways = self.stands_for.get(pathway, (pathway,))
        ids = [i for i, r in self.resources.items()
               if any(r.shown_for(p) for p in pathways) and (shown is None or i not in shown)]
        if shown is not None:
            shown.update(ids)
        return "\n".join(f"**{self.resources[i].name}**: {self.resources[i].details}" for i in ids)

    def fill(self, text: str, pathway: str, shown: set[str] | None = None) -> str:
        """A crisis text with `{resources}` and `{emergency}` filled in (still light markup)."""
        if "{resources}" in text:
            lines = self.resource_lines(pathway, shown)
            if not lines:
                return ""  # every resource was shown already: drop the message
            text = text.replace("{resources}", lines)
        return text.replace("{emergency}", self.emergency)

    def messages(self, pathway: str, shown: set[str] | None = None) -> list[str]:
        """What a pathway says when it interrupts (the general message for /safety)."""
        found = self.crisis.pathways.get(pathway)
        text = found.message if found is not None else self.crisis.message
        items = [text] if isinstance(text, str) else text
        return [filled for t in items if (filled := self.fill(t, pathway, shown)).strip()]

    def question(self, pathway: str) -> Question | None:
        """The question a pathway asks first, or None for "Are you safe right now?"."""
        found = self.crisis.pathways.get(pathway)
        return found.question if found is not None else None

    def next_steps(self, pathway: str) -> list[str]:
        """The in-bot next steps a pathway offers, in order, leaving out those with no text."""
        found = self.crisis.pathways.get(pathway)
        steps: list[str] = (list(found.next_steps) if found is not None
                            else ["safety_plan", "overdose", "grounding"])
        present = {"safety_plan": True, "overdose": bool(self.crisis.overdose_steps),
                   "grounding": bool(self.crisis.grounding)}
        return [s for s in steps if present[s]]
