"""Who is acting: the organiser, a supplier's booth or a buyer team.

An actor is established by an adapter (a device's session, enrolled by a
join card; an organiser's sign-in) and handed to the core, which decides what that actor may do.  The
public board is an actor too, so that read permissions have one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    organiser = "organiser"
    supplier = "supplier"
    team = "team"
    public = "public"  # the read-only board and citizens watching online
    resident = "resident"  # a citizen's phone: wishes; supports, seats and ratings once its number is confirmed
    system = "system"  # the fair itself, finishing what a command started (see ``fair.core.commands.Command.then``)


@dataclass(frozen=True)
class Actor:
    role: Role
    fair_id: int | None = None  # None only while the organiser creates the first fair
    party_id: int | None = None  # the supplier's or team's id
    credential_id: int | None = field(default=None, compare=False)  # the join card that enrolled it, if any
    # The server-side session it acts in: a device session (booth, team, projector) or an organiser's
    # sign-in; None only for actors the server makes itself (the demo loader, the command line, tests).
    session_id: int | None = field(default=None, compare=False)
    resident_key: str | None = None  # a resident's device, as a hash of its signed cookie
    resident_id: int | None = None  # the person, once the phone's number is confirmed (``fair.core.residents``)

    @classmethod
    def organiser(cls, fair_id: int | None = None) -> Actor:
        return cls(Role.organiser, fair_id)

    @classmethod
    def supplier(cls, fair_id: int, supplier_id: int) -> Actor:
        return cls(Role.supplier, fair_id, supplier_id)

    @classmethod
    def team(cls, fair_id: int, team_id: int) -> Actor:
        return cls(Role.team, fair_id, team_id)

    @classmethod
    def public(cls, fair_id: int) -> Actor:
        return cls(Role.public, fair_id)

    @classmethod
    def resident(cls, fair_id: int, key: str, resident_id: int | None = None) -> Actor:
        return cls(Role.resident, fair_id, resident_key=key, resident_id=resident_id)

    @classmethod
    def system(cls, fair_id: int) -> Actor:
        return cls(Role.system, fair_id)

    @property
    def key(self) -> str:
        """A stable name for logs and request records: "team:12", "organiser", "resident:p7", "resident:3f2a…".

        A confirmed resident is the person on every phone and browser: one name, one set of request ids.
        """
        if self.resident_id is not None:
            return f"{self.role}:p{self.resident_id}"
        if self.resident_key is not None:
            return f"{self.role}:{self.resident_key}"
        return str(self.role) if self.party_id is None else f"{self.role}:{self.party_id}"
