"""Do the events tell the truth?  Every screen's view, folded from the log, against a fresh read.

A screen holds a view taken at some sequence number and applies the events
its room is shown (``fair.core.queries.events_for``) with the screens'
reducer (``tests.screens.apply``, the same rules as ``static/js/core.js``).
If any event carries a figure read before its row was locked, or a change no
event carries, the folded view differs from a fresh ``queries.view`` in that
field.  The tally is left out here: the publisher sends it fresh, and
``tests/test_tally.py`` checks it.
"""

from __future__ import annotations

import copy
from typing import Any

from fair.core import Actor, queries
from fair.db import Database
from tests.fairground import Fairground
from tests.screens import apply


def screens_of(g: Fairground) -> list[Actor]:
    """One screen of every kind in the small fair: the organiser, both booths, the three teams, the public."""
    return [g.organiser, g.troupe, g.bookseller, g.centre, g.library, g.community, Actor.public(g.fair_id)]


async def views(db: Database, actors: list[Actor]) -> dict[str, dict[str, Any]]:
    shown = {}
    async with db.read() as session:
        for actor in actors:
            shown[actor.key] = await queries.view(session, actor)
    return shown


async def assert_events_tell_the_truth(db: Database, actors: list[Actor], before: dict[str, dict[str, Any]]) -> None:
    """Each actor's view from ``before``, with the events since, equals its view now, field by field."""
    async with db.read() as session:
        for actor in actors:
            folded = copy.deepcopy(before[actor.key])
            for event in await queries.events_for(session, actor, folded["seq"], 100_000):
                apply(folded, event)
            fresh = await queries.view(session, actor)
            folded["seq"] = fresh["seq"]
            folded["tally"] = fresh["tally"]
            # A resident's own supports are nobody else's business, so no broadcast event carries them: the
            # phone reads them afresh on every sync and adds its own acks (static/js/wishes.js).
            folded.pop("mine", None), fresh.pop("mine", None)
            differences = _differences(folded, fresh)
            assert not differences, f"{actor.key}'s screen drifted from the server: {differences}"


def _differences(shown: Any, fresh: Any, path: str = "") -> list[str]:
    """Where two views differ, as paths with both values, so that a failure names the field."""
    if isinstance(shown, dict) and isinstance(fresh, dict):
        found = []
        for key in sorted(set(shown) | set(fresh), key=str):
            found += _differences(shown.get(key), fresh.get(key), f"{path}.{key}")
        return found
    if isinstance(shown, list) and isinstance(fresh, list) and len(shown) == len(fresh):
        found = []
        for index, (a, b) in enumerate(zip(shown, fresh, strict=True)):
            found += _differences(a, b, f"{path}[{index}]")
        return found
    return [] if shown == fresh else [f"{path}: screen {shown!r} != server {fresh!r}"]
