"""Coverage targets (issue 22): each district's share of streets reached and of public wishes answered, against the
organiser's targets; recounted by hand on a small fair, readable by anyone, behind where either falls short."""

from __future__ import annotations

import pytest

from fair.core import Actor, Code, FairError, queries
from tests.fairground import Fairground

WISH = {"category": "lecture", "audience": "老年人"}


async def districts(g: Fairground, actor: Actor | None = None) -> dict:
    async with g.db.read() as session:
        answer = await queries.districts(session, actor or Actor.public(g.fair_id))
    return answer


def of(answer: dict, district: str) -> tuple:
    row = next(d for d in answer["districts"] if d["district"] == district)
    return row["streets_reached"], row["streets"], row["wishes_answered"], row["wishes"], row["behind"]


async def test_districts_are_measured_against_the_targets_the_organiser_sets(fairground: Fairground):
    g = fairground
    await g.confirm("phone")
    made = []
    for district, street in (("玄武区", "玄武门街道"), ("玄武区", "梅园新村街道"), ("鼓楼区", "湖南路街道")):
        wish = WISH | {"district": district, "street": street, "text": f"{street}想听讲座"}
        submitted = (await g.do(g.resident("phone"), "wish.submit", wish))["wish"]
        await g.do(g.organiser, "wish.moderate", {"wish_id": submitted["id"], "decision": "approve"})
        made.append(submitted["id"])
    answer = await districts(g)
    assert answer["targets"] == {"streets_pct": 60, "wishes_pct": 50}
    assert len(answer["districts"]) == 12  # every district, the city's teams aside
    assert of(answer, "玄武区") == (0, 2, 0, 2, True)
    assert of(answer, "鼓楼区") == (0, 1, 0, 1, True)
    assert of(answer, "秦淮区") == (0, 0, 0, 0, False)  # nothing asked, nothing known: nothing to fall short of

    await g.order(g.library, g.troupe, g.lecture, wish_id=made[0])  # answers 玄武门街道's wish
    answer = await districts(g, g.centre)  # the city team reads it too
    assert of(answer, "玄武区") == (1, 2, 1, 2, True)  # half the streets, short of 60 %; half the wishes: 50 % met
    await g.do(g.organiser, "fair.configure", {"coverage_streets_pct": 50})
    assert of(await districts(g), "玄武区") == (1, 2, 1, 2, False)
    assert of(await districts(g), "鼓楼区")[-1] is True
    with pytest.raises(FairError) as refused:
        await g.do(g.organiser, "fair.configure", {"coverage_wishes_pct": 101})
    assert refused.value.code == Code.invalid_input
