"""The payload of every command, validated before any rule runs.

Strict on purpose: a tablet that sends "3" for a quantity, an unknown field,
a negative price or a megabyte of text gets ``invalid_input`` and nothing
changes.  Bounds are generous for a city fair and tight for abuse.

Text is NFC-normalised and may not hold control or format characters
(bidirectional overrides, zero-width characters, NUL, line and paragraph
separators): they spoof what a title says on the public board, and NUL
breaks PostgreSQL.  Newlines and tabs are allowed only where text is
multi-line.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from fair.core.errors import N_, Code, FairError
from fair.core.labels import FIELDS, INPUT_PROBLEMS, INVALID
from fair.models import AUDIENCES, CITY, DISTRICTS, UNITS, Category, Funding, TeamKind

MAX_FEN = 10**12  # ¥10 billion: far above any budget
MAX_PRICE_FEN = 10**10  # ¥100 million a unit; times MAX_UNITS still fits a 64-bit integer
MAX_UNITS = 1_000_000
MAX_ID = 2**31 - 1  # ids, versions and sequence numbers are INTEGER columns: 32 bits on PostgreSQL


FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)  # any fair's days, and room on both sides


def _iso_day(value: str) -> str:
    """A day of this century: times on day 1 or day 9999 (in Asia/Shanghai) overflow Python's dates in UTC."""
    day = dt.date.fromisoformat(value)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError("day_range", "a day from 2000 to 2099")
    return day.isoformat()


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("values repeat")
    return values


# Unicode categories text may not hold: controls (NUL, ESC...), formats (bidi overrides, zero-width
# characters, soft hyphen), surrogates, private use, line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


EMOJI_JOINER = "\u200d"  # ZWJ: joins emoji into one (👨‍👩‍👧, ❤️‍🔥); refused anywhere else
VARIATION_SELECTORS = frozenset("\ufe0e\ufe0f")
TAG_BASE = "\U0001f3f4"  # the black flag that tag characters (U+E0020–E007F) turn into a region's flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿)


def _emoji_part(char: str) -> bool:
    """A character an emoji sequence is built of: a symbol, a skin tone, a variation selector."""
    return unicodedata.category(char) in ("So", "Sk") or char in VARIATION_SELECTORS


def _in_emoji(value: str, index: int) -> bool:
    """Whether the format character at ``index`` belongs to an emoji sequence phones type, as Unicode defines them
    (UTS #51): a joiner between two emoji, or the tags of a subdivision flag."""
    char = value[index]
    if char == EMOJI_JOINER:
        return 0 < index < len(value) - 1 and _emoji_part(value[index - 1]) and _emoji_part(value[index + 1])
    if "\U000e0020" <= char <= "\U000e007f":
        start = index
        while start > 0 and "\U000e0020" <= value[start - 1] <= "\U000e007f":
            start -= 1
        return start > 0 and value[start - 1] == TAG_BASE
    return False


def _clean(multiline: bool):
    def check(value: str) -> str:
        value = unicodedata.normalize("NFC", value)
        if multiline:
            value = value.replace("\r\n", "\n")
        if value.isprintable():  # the common case, checked in C: no control, format or separator character
            return value
        for index, char in enumerate(value):
            if (char in "\n\t" and multiline) or char == " ":
                continue
            if unicodedata.category(char) in REFUSED_CATEGORIES and not _in_emoji(value, index):
                name = unicodedata.name(char, "") or unicodedata.category(char)
                raise PydanticCustomError(
                    "text_characters",
                    "text holds {character} at position {position}",
                    {"character": f"U+{ord(char):04X} {name}", "position": index + 1},
                )
        return value

    return AfterValidator(check)


def Line(max_length: int, min_length: int = 0) -> Any:  # noqa: N802  (a type, spelled as one)
    """One line of text."""
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length), _clean(multiline=False)]


def Lines(max_length: int, min_length: int = 0) -> Any:  # noqa: N802
    """Text of several lines."""
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length), _clean(multiline=True)]


Fen = Annotated[StrictInt, Field(ge=0, le=MAX_FEN)]
Seats = Annotated[StrictInt, Field(ge=0, le=100_000)]  # a venue's seats; 0: not said, or any venue
Units = Annotated[StrictInt, Field(ge=1, le=MAX_UNITS)]
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Name = Line(120, min_length=1)
Label = Line(60)
Day = Annotated[StrictStr, Field(max_length=10), AfterValidator(_iso_day)]
Days = Annotated[list[Day], Field(max_length=366), AfterValidator(_unique)]
District = Annotated[StrictStr, Field(pattern="^(" + "|".join(DISTRICTS + (CITY,)) + ")$")]
OptionalDistrict = Annotated[StrictStr, Field(pattern="^(|" + "|".join(DISTRICTS) + ")$")]  # "" for none
Tag = Line(20, min_length=1)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateFair(Input):
    name: Name
    day: Day
    venue: Name
    subsidy_rate_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] = 0
    subsidy_pool_fen: Fen = 0


class NoInput(Input):
    pass


class ConfigureFair(Input):
    subsidy_rate_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None
    subsidy_pool_fen: Fen | None = None
    queue_grace_minutes: Annotated[StrictInt, Field(ge=1, le=60)] | None = None
    queue_numbers_per_team: Annotated[StrictInt, Field(ge=1, le=20)] | None = None
    coverage_streets_pct: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    coverage_wishes_pct: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    seats_per_resident: Annotated[StrictInt, Field(ge=1, le=10)] | None = None


class RegisterSupplier(Input):
    name: Name
    booth: Line(20, min_length=1)
    approved: StrictBool = False


class ApproveSupplier(Input):
    supplier_id: Id
    approved: StrictBool = True


class RegisterTeam(Input):
    name: Name
    kind: TeamKind
    district: District
    street: Line(40) = ""
    budget_fen: Fen = 0
    approved: StrictBool = False


class ApproveTeam(Input):
    team_id: Id
    approved: StrictBool = True


class SetBudget(Input):
    team_id: Id
    budget_fen: Fen


class PublishOffering(Input):
    category: Category
    title: Name
    description: Lines(2000) = ""
    unit: Annotated[StrictStr, Field(pattern="^(" + "|".join(UNITS) + ")$")]
    unit_price_fen: Annotated[StrictInt, Field(ge=1, le=MAX_PRICE_FEN)]
    capacity: Units
    dates: Days = []
    audience: Annotated[list[Tag], Field(max_length=10), AfterValidator(_unique)] = []
    districts: Annotated[list[District], Field(max_length=13), AfterValidator(_unique)] = []
    min_seats: Seats = 0


class UpdateOffering(Input):
    """Only the fields given change; dates may only be added, never taken away from under an order."""

    offering_id: Id
    title: Name | None = None
    description: Lines(2000) | None = None
    unit_price_fen: Annotated[StrictInt, Field(ge=1, le=MAX_PRICE_FEN)] | None = None
    capacity: Units | None = None
    add_dates: Days = []
    audience: Annotated[list[Tag], Field(max_length=10), AfterValidator(_unique)] | None = None
    districts: Annotated[list[District], Field(max_length=13), AfterValidator(_unique)] | None = None
    min_seats: Seats | None = None


class OfferingRef(Input):
    offering_id: Id


class TermsInput(Input):
    quantity: Units
    unit_price_fen: Annotated[StrictInt, Field(ge=0, le=MAX_PRICE_FEN)]
    dates: Days = []
    venue: Line(200) = ""
    funding: Funding = Funding.government
    message: Lines(500) = ""
    wish_id: Id | None = None  # the residents' wish the order would answer


class OpenNegotiation(Input):
    offering_id: Id
    terms: TermsInput | None = None


class Propose(Input):
    negotiation_id: Id
    terms: TermsInput


class Counter(Input):
    negotiation_id: Id
    base_version: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    terms: TermsInput


class Accept(Input):
    negotiation_id: Id
    version: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class NegotiationRef(Input):
    negotiation_id: Id


def _no_markup(value: str) -> str:
    """What residents write is shown as text everywhere, yet markup in it is refused: it is never a wish."""
    if "<" in value or ">" in value:
        raise PydanticCustomError("markup", "text holds markup")
    return value.strip()


def ResidentText(max_length: int, min_length: int) -> Any:  # noqa: N802  (a type, spelled as one)
    """One line a resident writes: ``Line``'s rules, no markup, no surrounding blanks."""
    return Annotated[Line(max_length, min_length), AfterValidator(_no_markup)]


# A one-time code as a phone shows it (a text message's, or the one shown at an event); blanks around it are fine.
SixDigits = Annotated[
    StrictStr, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v), Field(pattern=r"^\d{6}$")
]

Audience = Annotated[StrictStr, Field(pattern="^(" + "|".join(AUDIENCES) + ")$")]


class SubmitWish(Input):
    district: Annotated[StrictStr, Field(pattern="^(" + "|".join(DISTRICTS) + ")$")]
    street: ResidentText(40, 2)
    category: Category
    audience: Audience
    text: ResidentText(200, 4)


class WishRef(Input):
    wish_id: Id


class ModerateWish(Input):
    """Approve a wish, reject it with a reason, or merge it into another (its supports go there)."""

    wish_id: Id
    decision: Annotated[StrictStr, Field(pattern="^(approve|reject|merge)$")]
    reason: ResidentText(200, 0) = ""
    into: Id | None = None


class PutOnShortlist(Input):
    offering_id: Id
    quantity: Units = 1
    note: Line(200) = ""


Clock = Annotated[StrictStr, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]  # HH:MM, Asia/Shanghai


class PublishSlots(Input):
    """Meeting slots on the fair day, from ``starts`` to ``ends`` (local time), ``minutes`` each."""

    starts: Clock
    ends: Clock
    minutes: Annotated[StrictInt, Field(ge=5, le=120)]


class SlotRef(Input):
    slot_id: Id


class BookSlot(Input):
    slot_id: Id
    offering_id: Id | None = None
    message: Lines(200) = ""


class Invite(Input):
    slot_id: Id
    team_id: Id
    offering_id: Id | None = None
    message: Lines(200) = ""


class AppointmentRef(Input):
    appointment_id: Id


class BoothRef(Input):
    supplier_id: Id


def _theme(value: str) -> str:
    """A theme is a word or two looked for in offerings' titles and descriptions: blanks around it mean nothing."""
    value = value.strip()
    if not value:
        raise PydanticCustomError("string_too_short", "a theme of at least one character")
    return value


Theme = Annotated[Line(12, min_length=1), AfterValidator(_theme)]


class SetInterests(Input):
    """What a team is looking for, or what a booth does best: categories, audiences, themes (words of an
    offering's title or description, such as 越剧 or 非遗), and for a team the days it would have a service on and
    the seats of its largest venue; none for no preference."""

    categories: Annotated[list[Category], Field(max_length=5), AfterValidator(_unique)] = []
    audiences: Annotated[list[Audience], Field(max_length=8), AfterValidator(_unique)] = []
    themes: Annotated[list[Theme], Field(max_length=5), AfterValidator(_unique)] = []
    dates: Annotated[list[Day], Field(max_length=31), AfterValidator(_unique)] = []
    venue_seats: Seats = 0  # a team's: the seats of its largest venue


class SetAside(Input):
    """A recommendation set aside: a team names an offering, a booth a team; ``hours`` snoozes it, none is for good."""

    offering_id: Id | None = None
    team_id: Id | None = None
    hours: Annotated[StrictInt, Field(ge=1, le=72)] | None = None


class TakeBack(Input):
    offering_id: Id | None = None
    team_id: Id | None = None


InputT = TypeVar("InputT", bound=Input)


def parse(model: type[InputT], payload: Any) -> InputT:
    """Validate a payload, turning every kind of bad input into one coded refusal."""
    if not isinstance(payload, dict):
        raise FairError(Code.invalid_input, N_("The request must be an object."))
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        problem = INPUT_PROBLEMS.get(first["type"], INVALID)
        named = next((FIELDS[part] for part in reversed(first["loc"]) if part in FIELDS), None)
        if first["type"] == "text_characters":  # which character, and where: the person can find and delete it
            raise FairError(
                Code.invalid_input,
                N_("%(field_label)s holds a character that cannot be shown: %(character)s, at position %(position)s."),
                field_label=named or INVALID_TEXT,
                **first["ctx"],
            ) from None
        if named is not None:  # a field a person filled in, named in words
            raise FairError(
                Code.invalid_input, N_("%(field_label)s %(problem_label)s."), field_label=named, problem_label=problem
            ) from None
        field = ".".join(str(part) for part in first["loc"]) or "-"  # an id or an envelope: a program's mistake
        raise FairError(
            Code.invalid_input, N_("The field %(field)s %(problem_label)s."), field=field, problem_label=problem
        ) from None


INVALID_TEXT = N_("The text")

REQUEST_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


def check_request_id(request_id: Any) -> str:
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise FairError(
            Code.invalid_input,
            N_("Every change needs a request id: 1 to 64 letters, digits or the signs _ . : -"),
        )
    return request_id
