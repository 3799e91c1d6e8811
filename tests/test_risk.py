"""The risk profile: what a person disclosed, as a level and named flags, remembered."""

from __future__ import annotations

from state.curriculum.schema import RISK_FLAGS, Condition
from state.engine.risk import profile_of, refresh


def test_a_partner_afraid_sometimes_with_a_gun_and_strangulation_is_at_high_risk() -> None:
    profile = profile_of({"safety_fear": "unsure", "safety_weapons": "gun",
                          "safety_strangled": "yes", "shared_phone": "yes"})
    assert profile.level == "high"
    assert profile.flags == {"fear", "firearm", "weapon", "strangulation", "phone_read"}


def test_a_gun_alone_is_a_concern_not_serious_danger() -> None:
    assert profile_of({"safety_has_weapon": "gun"}).level == "some"
    assert profile_of({"safety_has_weapon": "gun", "safety_past_violence": "yes"}).level == "high"


def test_a_mother_who_said_no_to_everything_has_no_risk() -> None:
    answers = {key: "no" for key in ("safety_fear", "safety_has_weapon", "safety_choking",
                                     "safety_afraid", "safety_past_violence", "safety_threats",
                                     "safety_child_threat", "safety_suicide_threats")}
    assert profile_of({**answers, "shared_phone": "no"}).level == "none"
    assert profile_of({**answers, "shared_phone": "no"}).flags == frozenset()


def test_a_shared_phone_is_a_flag_but_no_risk() -> None:
    profile = profile_of({"shared_phone": "yes"})
    assert (profile.level, profile.flags) == ("none", {"phone_read"})


def test_suicide_threats_are_high_with_violence_and_some_alone() -> None:
    assert profile_of({"safety_suicide_threats": "yes"}).level == "some"
    assert profile_of({"safety_suicide_threats": "yes", "safety_afraid": "yes"}).level == "high"


def test_threats_to_kill_or_to_a_child_are_high_on_their_own() -> None:
    assert profile_of({"safety_threats": "yes"}).level == "high"
    assert profile_of({"safety_child_threat": "yes"}).level == "high"


def test_the_older_onboarding_question_still_counts() -> None:
    assert profile_of({"safety_weapons": "yes"}).flags == {"weapon"}


def test_a_no_in_safety_at_home_does_not_erase_what_onboarding_heard() -> None:
    assert profile_of({"safety_strangled": "yes", "safety_choking": "no"}).level == "high"


def test_a_no_at_a_gate_does_not_erase_an_earlier_disclosure() -> None:
    answers = {"safety_choking": "yes", "withdrawing_safety": "no", "invitation_safety": "no"}
    assert profile_of(answers).level == "high"


def test_a_yes_at_a_gate_raises_a_concern() -> None:
    assert profile_of({"consequences_safety": "yes"}).flags == {"reaction_risk"}
    assert profile_of({"consequences_safety": "yes"}).level == "some"


def test_the_profile_is_kept_in_the_answers_and_updated_when_they_change() -> None:
    answers: dict[str, object] = {"safety_afraid": "yes"}
    refresh(answers)
    assert (answers["risk_level"], answers["risk_flags"]) == ("some", ["fear"])
    answers["safety_choking"] = "yes"
    refresh(answers)
    assert answers["risk_level"] == "high"
    answers.clear()
    refresh(answers)
    assert answers == {}  # nothing disclosed: nothing kept


def test_every_flag_the_profile_raises_is_one_authors_may_name() -> None:
    everything = {"safety_fear": "yes", "safety_has_weapon": "gun", "safety_choking": "yes",
                  "safety_past_violence": "yes", "safety_threats": "yes",
                  "safety_child_threat": "yes", "safety_suicide_threats": "yes",
                  "withdrawing_safety": "yes", "shared_phone": "yes"}
    assert profile_of(everything).flags == set(RISK_FLAGS)


def test_risk_conditions_read_the_kept_profile() -> None:
    high = Condition.model_validate({"risk": "high"})
    at_risk = Condition.model_validate({"risk": ["some", "high"]})
    none = Condition.model_validate({"risk": "none"})
    firearm = Condition.model_validate({"risk_flag": "firearm"})
    answers: dict[str, object] = {"safety_has_weapon": "gun"}
    refresh(answers)
    assert (high.holds(answers), at_risk.holds(answers), none.holds(answers)) == (False, True, False)
    assert firearm.holds(answers)
    assert none.holds({}) and not at_risk.holds({}) and not firearm.holds({})
