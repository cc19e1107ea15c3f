"""The fair's tables and the vocabulary they store.

Only storage lives here: what a row holds and which invariants the database
itself enforces (unique booths, one active negotiation per team and offering,
one order per negotiation, one result per request id).  The rules that decide
whether a row may change live in ``fair.core``.

Money is integer fen.  Times are timezone-aware UTC in Python; SQLite, which
has no time zone type, stores them as naive UTC (see ``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

UTC = dt.UTC


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A datetime that is always aware and UTC on the Python side.

    PostgreSQL keeps the zone (timestamptz); SQLite gets naive UTC and the zone
    is put back on the way out, so both engines hand the core the same values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FairState(StrEnum):
    setup = "setup"
    preview = "preview"  # the catalogue is out: teams browse, shortlist and book meetings; nothing is confirmed
    open = "open"
    closed = "closed"


class Category(StrEnum):
    performance = "performance"
    training = "training"
    lecture = "lecture"
    exhibition = "exhibition"
    books = "books"


class TeamKind(StrEnum):
    city_centre = "city_centre"
    district_centre = "district_centre"
    library = "library"
    district_bureau = "district_bureau"
    street = "street"
    community = "community"


class OfferingStatus(StrEnum):
    published = "published"
    withdrawn = "withdrawn"


class NegotiationState(StrEnum):
    open = "open"
    proposed = "proposed"
    countered = "countered"
    confirmed = "confirmed"
    declined = "declined"
    withdrawn = "withdrawn"
    expired = "expired"


ACTIVE_NEGOTIATION_STATES = (NegotiationState.open, NegotiationState.proposed, NegotiationState.countered)


class Funding(StrEnum):
    government = "government"
    self_funded = "self_funded"


class Side(StrEnum):
    """The two parties of a negotiation."""

    team = "team"
    supplier = "supplier"


DISTRICTS = (
    "玄武区",
    "秦淮区",
    "建邺区",
    "鼓楼区",
    "浦口区",
    "栖霞区",
    "雨花台区",
    "江宁区",
    "六合区",
    "溧水区",
    "高淳区",
    "江北新区",
)
CITY = "市级"  # the district of city-level teams (city cultural centre, city library)

UNITS = ("场", "期", "讲", "册")
# The unit a new offering of each category is sold in (a booth's form fills it in).
CATEGORY_UNITS = {"performance": "场", "training": "期", "lecture": "讲", "exhibition": "期", "books": "册"}

# Who a wish or an offering is for; residents choose from these.
AUDIENCES = ("少儿", "青少年", "老年人", "全年龄", "社区居民", "农村群众", "外来务工人员", "残障人士")


class Fair(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    day: dt.date
    venue: str
    state: str = FairState.setup
    subsidy_rate_bp: int = 0  # basis points of the amount: 3000 is 30 %
    subsidy_pool_fen: int = Field(default=0, sa_type=BigInteger)
    subsidy_used_fen: int = Field(default=0, sa_type=BigInteger)
    queue_grace_minutes: int = 3  # a team called at a booth's queue that does not come is skipped after this
    queue_numbers_per_team: int = 2  # numbers one team may hold at booths' queues at once
    # Coverage targets (queries.districts): the share of a district's streets some service reached, and of its
    # public wishes an order answers, below which the board and the city team see the district as behind.
    coverage_streets_pct: int = 60
    coverage_wishes_pct: int = 50
    seats_per_resident: int = 1  # seats one resident may take at one event (a grandmother and her grandson: 2)
    last_seq: int = 0  # the event log's counter; bumped inside every writing transaction
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)  # when it last closed: reopen is brief
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Supplier(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("fair_id", "booth"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    name: str
    booth: str
    approved: bool = False
    # What the booth says it does best (b2match's "offering"): categories, audiences and themes (words of its
    # offerings' titles), for the matching.
    best_categories: list[str] = Field(default_factory=list, sa_type=JSON)
    best_audiences: list[str] = Field(default_factory=list, sa_type=JSON)
    best_themes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    name: str
    kind: str
    district: str
    street: str = ""  # for street and community teams: the street (街道) they belong to
    approved: bool = False
    budget_fen: int = Field(default=0, sa_type=BigInteger)  # the government budget
    spent_fen: int = Field(default=0, sa_type=BigInteger)  # charged to the government budget by confirmed orders
    self_funded_fen: int = Field(default=0, sa_type=BigInteger)  # paid from the unit's own funds
    subsidy_fen: int = Field(default=0, sa_type=BigInteger)  # subsidy owed to the unit for its self-funded orders
    # What the team says it is looking for (b2match's "looking for"): categories, audiences, themes and the days
    # it would have a service on, for the matching.
    wanted_categories: list[str] = Field(default_factory=list, sa_type=JSON)
    wanted_audiences: list[str] = Field(default_factory=list, sa_type=JSON)
    wanted_themes: list[str] = Field(default_factory=list, sa_type=JSON)
    wanted_dates: list[str] = Field(default_factory=list, sa_type=JSON)  # ISO days
    venue_seats: int = 0  # the seats of the team's largest venue, as it says; 0: not said
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Offering(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    category: str
    title: str
    description: str = ""
    unit: str
    unit_price_fen: int = Field(sa_type=BigInteger)
    capacity: int
    sold: int = 0
    audience: list[str] = Field(default_factory=list, sa_type=JSON)
    districts: list[str] = Field(default_factory=list, sa_type=JSON)
    min_seats: int = 0  # the smallest venue it can be given in, in seats (a symphony needs a hall); 0: any
    status: str = OfferingStatus.published
    spotlight_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OfferingDate(SQLModel, table=True):
    """A bookable day of an offering: taken by the one negotiation that confirmed it."""

    __tablename__ = "offering_date"
    __table_args__ = (UniqueConstraint("offering_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    offering_id: int = Field(foreign_key="offering.id", index=True)
    day: dt.date
    negotiation_id: int | None = Field(default=None, foreign_key="negotiation.id")


class Negotiation(SQLModel, table=True):
    __table_args__ = (
        # One live negotiation per team and offering; closed ones may be followed by a new one.
        Index(
            "uq_negotiation_active",
            "team_id",
            "offering_id",
            unique=True,
            sqlite_where=text("state IN ('open', 'proposed', 'countered')"),
            postgresql_where=text("state IN ('open', 'proposed', 'countered')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    offering_id: int = Field(foreign_key="offering.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    # The offering's title when the negotiation opened: a booth renaming its offering later does not
    # rewrite what was negotiated, and no event has to reach every screen holding the old name.
    offering_title: str = ""
    state: str = NegotiationState.open
    version: int = 0  # the current terms version; 0 before any terms
    team_accepted: int = 0  # the terms version the team has accepted, 0 for none
    supplier_accepted: int = 0
    refusal: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # the last refused confirmation
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Terms(SQLModel, table=True):
    """One numbered version of the terms on the table: never changed once written."""

    __table_args__ = (UniqueConstraint("negotiation_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    negotiation_id: int = Field(foreign_key="negotiation.id", index=True)
    version: int
    author: str  # a Side
    quantity: int
    unit_price_fen: int = Field(sa_type=BigInteger)
    dates: list[str] = Field(default_factory=list, sa_type=JSON)  # ISO days
    venue: str = ""
    funding: str = Funding.government
    message: str = ""
    wish_id: int | None = Field(default=None, foreign_key="wish.id")  # the residents' wish these terms answer
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NegotiationMessage(SQLModel, table=True):
    """A short message between the two sides of a negotiation: the thread beside the terms."""

    __tablename__ = "negotiation_message"

    id: int | None = Field(default=None, primary_key=True)
    negotiation_id: int = Field(foreign_key="negotiation.id", index=True)
    author: str  # a Side
    text: str
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Order(SQLModel, table=True):
    """The confirmed terms of a negotiation, with who pays what."""

    __tablename__ = "purchase_order"

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    negotiation_id: int = Field(foreign_key="negotiation.id", unique=True)
    offering_id: int = Field(foreign_key="offering.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    offering_title: str = ""  # what was bought, as the offering was called when the order was confirmed
    category: str
    district: str
    street: str = ""  # the buying team's street, for coverage
    terms_version: int
    quantity: int
    unit: str
    unit_price_fen: int = Field(sa_type=BigInteger)
    amount_fen: int = Field(sa_type=BigInteger)
    funding: str
    government_fen: int = Field(sa_type=BigInteger)  # charged to the team's government budget
    subsidy_fen: int = Field(sa_type=BigInteger)  # charged to the bureau's subsidy pool
    dates: list[str] = Field(default_factory=list, sa_type=JSON)
    venue: str = ""
    wish_id: int | None = Field(default=None, foreign_key="wish.id", index=True)  # the wish this order answers
    confirmed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # An order voided by the organiser stays, marked, with why; it no longer counts anywhere.
    voided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    void_reason: str = ""
    paid_fen: int = Field(default=0, sa_type=BigInteger)  # the payments recorded against it, never above its amount


class Event(SQLModel, table=True):
    """The ordered log every screen, the tally and the audit are read from."""

    __table_args__ = (Index("ix_event_kind", "fair_id", "type", "seq"),)  # "the last order", for the tally

    fair_id: int = Field(foreign_key="fair.id", primary_key=True)
    seq: int = Field(primary_key=True)
    type: str
    actor: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RequestRecord(SQLModel, table=True):
    """The first outcome of a client's request id, so that a replay returns it."""

    __tablename__ = "request_record"
    __table_args__ = (UniqueConstraint("party", "request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    party: str
    request_id: str
    command: str
    fingerprint: str  # a hash of the command and its payload, to catch a reused id
    outcome: dict[str, Any] = Field(sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CredentialKind(StrEnum):
    supplier = "supplier"  # a booth's device
    team = "team"  # a buyer team's tablet
    projector = "projector"  # a board on the wall


class Credential(SQLModel, table=True):
    """A join card: the signed token printed on it names this row; scanning it enrols a device.

    Revoking it shuts the door on the card and signs out every device it enrolled.
    """

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    kind: str
    party_id: int | None = None  # the supplier or team; none for a projector
    label: str = ""
    max_devices: int = 3  # devices the card may have signed in at once (the organiser's choice)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeviceSession(SQLModel, table=True):
    """A device a card signed in: its session token is kept only as a keyed hash (``fair.tokens``)."""

    __tablename__ = "device_session"

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(foreign_key="credential.id", index=True)
    token_hash: str = Field(unique=True)
    label: str = ""  # what the device said it was when it enrolled (its browser and system)
    address: str = ""  # where it enrolled from
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrganiserAccount(SQLModel, table=True):
    """Someone who runs the fair; the password is kept as an argon2 hash only."""

    __tablename__ = "organiser_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True)
    password_hash: str
    must_change_password: bool = False  # a generated first password is changed at the first sign-in
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WishStatus(StrEnum):
    pending = "pending"  # waiting for an organiser
    approved = "approved"  # public: residents may support it, teams see it, orders may answer it
    rejected = "rejected"
    merged = "merged"  # a duplicate: its supports went to ``merged_into``


class Wish(SQLModel, table=True):
    """What residents ask for (需求意向): a service for their street, of a category, for an audience."""

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    district: str
    street: str
    category: str
    audience: str
    text: str
    status: str = WishStatus.pending
    supports: int = 0  # distinct residents (confirmed phones) who support it, the author included; a recount
    answers: int = 0  # confirmed orders that answer it
    reason: str = ""  # why it was rejected
    merged_into: int | None = Field(default=None, foreign_key="wish.id")
    device: str  # a hash of the author's device key: for the per-device limits, never shown
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)  # a confirmed author
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    moderated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class WishSupport(SQLModel, table=True):
    """One resident's support for a wish: a person (a confirmed phone) supports a wish once, ever."""

    __tablename__ = "wish_support"
    __table_args__ = (UniqueConstraint("wish_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    wish_id: int = Field(foreign_key="wish.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ShortlistItem(SQLModel, table=True):
    """An offering a team means to buy (意向清单), and how much of it."""

    __tablename__ = "shortlist_item"
    __table_args__ = (UniqueConstraint("team_id", "offering_id"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    offering_id: int = Field(foreign_key="offering.id")
    quantity: int = 1
    note: str = ""
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Slot(SQLModel, table=True):
    """A booth's meeting slot on the fair day (预约洽谈), free or held by one appointment."""

    __table_args__ = (UniqueConstraint("supplier_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    team_id: int | None = Field(default=None, foreign_key="team.id")  # the team it is held for; None when free
    withdrawn: bool = False


class AppointmentState(StrEnum):
    invited = "invited"  # the booth invited the team, which has not answered yet: the slot is held for it
    booked = "booked"
    declined = "declined"
    cancelled = "cancelled"


ACTIVE_APPOINTMENT_STATES = (AppointmentState.invited, AppointmentState.booked)


class Appointment(SQLModel, table=True):
    """A team's meeting at a booth, in one of the booth's slots."""

    __table_args__ = (
        Index(
            "uq_appointment_active",
            "slot_id",
            unique=True,
            sqlite_where=text("state IN ('invited', 'booked')"),
            postgresql_where=text("state IN ('invited', 'booked')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    offering_id: int | None = Field(default=None, foreign_key="offering.id")  # what the meeting is about
    offering_title: str = ""  # as the offering was called when the meeting was made (see Negotiation)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime)  # the slot's, so that overlaps are one query
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    state: str = AppointmentState.booked
    message: str = ""
    ended_by: str = ""  # the side that declined or cancelled
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BoothQueue(SQLModel, table=True):
    """A booth's queue on the day: the next number to hand out, in a row of its own to lock."""

    __tablename__ = "booth_queue"

    supplier_id: int = Field(foreign_key="supplier.id", primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    next_number: int = 1


class TicketState(StrEnum):
    waiting = "waiting"
    called = "called"  # the booth called it: the team is expected now
    served = "served"
    skipped = "skipped"  # called, and did not come in time
    left = "left"  # the team left the queue


ACTIVE_TICKET_STATES = (TicketState.waiting, TicketState.called)


class QueueTicket(SQLModel, table=True):
    """A team's number in a booth's queue."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        Index(
            "uq_ticket_active",
            "supplier_id",
            "team_id",
            unique=True,
            sqlite_where=text("state IN ('waiting', 'called')"),
            postgresql_where=text("state IN ('waiting', 'called')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    number: int
    state: str = TicketState.waiting
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    called_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrganiserSession(SQLModel, table=True):
    """An organiser signed in: ended by signing out, from the console, or after a working day."""

    __tablename__ = "organiser_session"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="organiser_account.id", index=True)
    token_hash: str = Field(unique=True)
    label: str = ""
    address: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnnouncementAudience(StrEnum):
    everyone = "everyone"
    teams = "teams"
    booths = "booths"
    district = "district"  # the teams of one district


class Announcement(SQLModel, table=True):
    """A short word from the organiser to the screens of the hall; the board may show it as a banner."""

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    audience: str
    district: str = ""  # for the district audience
    text: str
    on_board: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Venue(SQLModel, table=True):
    """A community or street venue of a team's district, where its orders are delivered; the team keeps the list."""

    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str
    address: str = ""
    contact: str = ""  # who opens the door on the day, and a number to call
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryState(StrEnum):
    scheduled = "scheduled"  # a venue and a time are set
    confirmed = "confirmed"  # the venue said yes (through its link) or the team did for it
    under_way = "under_way"  # the venue checked in on the day
    delivered = "delivered"  # the team says it took place
    evaluated = "evaluated"  # the team rated it
    missed = "missed"  # it did not take place, with a reason
    cancelled = "cancelled"  # its order was voided before it took place


# A delivery in one of these still holds its venue's time.
HOLDING_DELIVERY_STATES = (DeliveryState.scheduled, DeliveryState.confirmed, DeliveryState.under_way)


class Delivery(SQLModel, table=True):
    """One performance, session or shipment of an order, at one of the team's venues, under supervision."""

    __table_args__ = (Index("ix_delivery_venue_time", "venue_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    order_id: int = Field(foreign_key="purchase_order.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    venue_id: int = Field(foreign_key="venue.id")
    quantity: int  # 1 for a performance or session; the volumes of a shipment of books
    starts_at: dt.datetime = Field(sa_type=UTCDateTime)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    contact: str = ""
    state: str = DeliveryState.scheduled
    reschedules: int = 0
    reason: str = ""  # why it was last rescheduled or missed
    checked_in_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None  # the team's, 1–5
    comment: str = ""
    seats: int = 0  # residents who may sign up for it; 0: no sign-up
    taken: int = 0  # seats signed up for, never above ``seats``
    waiting: int = 0  # seats asked for on the waiting list, handed out in turn as seats come back
    presence_secret: str = Field(default_factory=lambda: secrets.token_hex(16))  # seeds the code shown at the event
    stream_url: str = ""  # a live stream of the event, shown on its public page
    photo: str = ""  # the file name of the venue's photo at check-in, under the photos folder (fair.settings)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResidentRating(SQLModel, table=True):
    """A resident's rating of a delivery they were shown to attend (``Presence``); moderated; one per person.

    Rows from before residents confirmed their phones have no ``resident_id``: they are kept for the
    record and counted nowhere (an unproven rating never moves a booth's score).
    """

    __tablename__ = "resident_rating"
    __table_args__ = (
        UniqueConstraint("delivery_id", "device"),
        UniqueConstraint("delivery_id", "resident_id", name="uq_resident_rating_resident"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    device: str | None = None  # before residents confirmed their phones: a cookie's hash; never written now
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    rating: int
    comment: str = ""
    status: str = WishStatus.pending  # pending, approved or rejected, as wishes are
    reason: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # a changed rating: when


class Payment(SQLModel, table=True):
    """A payment of an order by its buyer to its supplier, as the bureau's records show it (voucher and day)."""

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    order_id: int = Field(foreign_key="purchase_order.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    paid_on: dt.date  # the day on the voucher, in Nanjing
    reference: str  # the voucher or transfer number
    recorded_by: int | None = None  # the organiser's credential
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Signup(SQLModel, table=True):
    """A resident's seats at a delivered event, or their place on its waiting list: one row per person.

    Rows from before residents confirmed their phones have no ``resident_id``: their seats stay taken.
    """

    __table_args__ = (
        UniqueConstraint("delivery_id", "device"),
        UniqueConstraint("delivery_id", "resident_id", name="uq_signup_resident"),
    )

    id: int | None = Field(default=None, primary_key=True)  # also the order of the waiting list
    fair_id: int = Field(foreign_key="fair.id", index=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    device: str | None = None  # before residents confirmed their phones: a cookie's hash; never written now
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    seats: int = 1  # seats this resident holds or waits for, at most the fair's ``seats_per_resident``
    waiting: bool = False  # on the waiting list: seated in turn when seats come back
    name: str = ""  # how the venue may greet them, if they say
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Resident(SQLModel, table=True):
    """A resident: one person, known by a mobile number confirmed with a one-time code (``fair.core.residents``).

    Residents are the platform's, not one fair's: next spring the same phone is the same person.
    The number is kept to send codes to and shown only masked.
    """

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # the last confirmation


class PhoneCode(SQLModel, table=True):
    """A one-time code sent to a mobile number: kept as a salted hash, with its tries and its end.

    At most one code waits per number (``used_at`` empty): two phones asking for a new number's first
    code at the same moment both find none, and the index lets only one of them send one.
    """

    __tablename__ = "phone_code"
    __table_args__ = (
        Index(
            "uq_phone_code_waiting",
            "phone",
            unique=True,
            sqlite_where=text("used_at IS NULL"),
            postgresql_where=text("used_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(index=True)
    digest: str  # sha256 of the salt and the code
    salt: str
    tries: int = 0  # wrong codes typed against it
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TextMessage(SQLModel, table=True):
    """The outbox of text messages (短信) to residents' phones, written in the transaction that decides them.

    The gateway (``fair.sms``, when ``FAIR_SMS_URL`` is set) sends what is here and stamps ``sent_at``,
    or tries again later (``next_try_at``), or gives up once the code in it has expired (``gave_up_at``,
    ``error``).  Without a gateway nothing is sent and the console's Residents page shows the messages.
    """

    __tablename__ = "text_message"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(index=True)
    text: str
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0  # times the gateway was asked to send it
    next_try_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)  # not sent again before this
    gave_up_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = None  # the gateway's last refusal or failure, in a line


class Dismissal(SQLModel, table=True):
    """A recommendation set aside: a team's "not interested" in an offering, or a booth's in a team, for good
    (``until`` empty) or until a time (snoozed).  Its own party's alone, and taken back by deleting it."""

    __table_args__ = (UniqueConstraint("team_id", "supplier_id", "offering_id", "by"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    by: str  # "team" (the team set an offering aside) or "booth" (the booth set the team aside)
    team_id: int = Field(foreign_key="team.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    offering_id: int = Field(default=0)  # the offering a team set aside; 0 for a booth's (a unique key, no NULL)
    until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Presence(SQLModel, table=True):
    """A resident was at an event: their phone typed or scanned the code shown there while it ran."""

    __table_args__ = (UniqueConstraint("delivery_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    fair_id: int = Field(foreign_key="fair.id", index=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
