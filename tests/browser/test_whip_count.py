"""The whip count's bar and group tables on a phone and a desktop, with the axe checks."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from positions.models import ActorKind, Stance, ThresholdKind
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    MembershipFactory,
    QuestionFactory,
    StatementFactory,
)


@pytest.fixture
def chamber_board(demo):
    """A 100-seat chamber (two thirds needed) of 90 members in two parties."""
    senate = ActorFactory(name="Synthetic Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    question = QuestionFactory(
        title="Consent to ratification",
        deciding_body=senate,
        threshold_kind=ThresholdKind.FRACTION,
        seats=100,
        threshold_numerator=2,
        threshold_denominator=3,
    )
    parties = [
        ActorFactory(name=name, kind=ActorKind.LEGISLATIVE_GROUP) for name in ("Blue", "Gold")
    ]
    condition = ConditionFactory(text="Human-rights controls in place")
    cycle = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED, None]
    for n in range(90):
        member = ActorFactory(name=f"Senator {n:02}", kind=ActorKind.LEGISLATOR)
        MembershipFactory(member=member, organization=senate, on_behalf_of=parties[n % 2])
        stance = cycle[n % 5]
        if stance:
            StatementFactory(
                question=question,
                actors=[member],
                stance=stance,
                date=datetime.date(2024, 10, 1),
                conditions=[condition] if stance == Stance.CONDITIONAL else [],
            )
    return question.get_absolute_url()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_whip_count_renders_and_passes_the_axe_checks(
    site, page, chamber_board, artifacts_dir, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + chamber_board)
    whip = page.locator("section.whip")
    expect(whip).to_contain_text("36 of the 67 needed: 18 support, 18 only on conditions")
    expect(whip.locator(".whip__threshold")).to_have_count(1)
    expect(whip.get_by_role("table")).to_have_count(3)  # the count, by party, by kind
    whip.screenshot(path=str(artifacts_dir / f"whip-{width}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wide = page.evaluate(
        f"[...document.querySelectorAll('section.whip *')].filter("
        f"e => e.getBoundingClientRect().right > {width + 1} && !e.closest('.table-scroll')"
        ").map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert wide == []
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], results.generate_report()
