"""Refusals: a stable code for programs, a message for people in both languages.

A ``FairError`` is raised by the core whenever it refuses an operation; the
operation's transaction is rolled back, so a refusal changes nothing, except
that a refused confirmation is noted on its negotiation for both parties.  Adapters
(HTTP, Socket.IO) translate it and never invent their own refusals for rules of
the fair.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fair.i18n import LOCALES, format_money, gettext


class Code(StrEnum):
    invalid_input = "invalid_input"
    not_found = "not_found"
    forbidden = "forbidden"  # the role may not do this at all, or is not approved
    not_a_party = "not_a_party"  # the object belongs to somebody else
    invalid_state = "invalid_state"
    fair_not_open = "fair_not_open"
    stale_terms = "stale_terms"
    capacity_exhausted = "capacity_exhausted"
    date_unavailable = "date_unavailable"
    budget_exceeded = "budget_exceeded"
    subsidy_pool_exhausted = "subsidy_pool_exhausted"
    slot_unavailable = "slot_unavailable"  # a meeting slot was taken, withdrawn or never free
    schedule_conflict = "schedule_conflict"  # the team has another meeting at that time
    request_conflict = "request_conflict"  # a request id reused for a different command
    rate_limited = "rate_limited"  # too many commands from one connection (the live adapter)
    unconfirmed = "unconfirmed"  # a resident whose mobile number is not confirmed: may read and wish, no more
    duplicate = "duplicate"  # a resident's second support of a wish, second seat, or the like: counted once
    no_proof = "no_proof"  # a rating from a phone that was not shown to be at the event
    unavailable = "unavailable"  # the database did not answer in time; send the same request id again later
    internal_error = "internal_error"  # a bug on the server; the command may not have run


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; it is translated when the message is shown."""
    return msgid


# The database stalled or went away (fair.db.Unavailable): whether the change was made is not known, so
# nothing is recorded under the request id; the same request id, sent again, runs it or replays its outcome.
UNAVAILABLE_MSGID = N_("The fair's database is not answering at the moment. Try again in a few seconds.")


class FairError(Exception):
    def __init__(self, code: Code, msgid: str, **params: Any) -> None:
        super().__init__(f"{code}: {msgid % params if params else msgid}")
        self.code = Code(code)
        self.msgid = msgid
        self.params = params

    def message(self, locale: str) -> str:
        return gettext(locale, self.msgid, **{key: _shown(key, value, locale) for key, value in self.params.items()})

    def messages(self) -> dict[str, str]:
        return {locale: self.message(locale) for locale in LOCALES}

    def to_record(self) -> dict[str, Any]:
        """What is stored for a refused request, so that a replay can raise it again."""
        return {"code": str(self.code), "msgid": self.msgid, "params": self.params}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FairError:
        return cls(Code(record["code"]), record["msgid"], **record["params"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FairError) and self.to_record() == other.to_record()

    __hash__ = None  # type: ignore[assignment]


def _shown(key: str, value: Any, locale: str) -> Any:
    """Parameters named ``*_fen`` are money; ``*_label`` are msgids of their own."""
    if key.endswith("_fen"):
        return format_money(value, locale)
    if key.endswith("_label"):
        return gettext(locale, value)
    return value
