"""Signed tokens: the join links printed as QR codes, and organiser sessions.

A join token names a credential (``fair.core.access``) and never expires: the
organiser revokes the credential instead.  An organiser token names an
account and expires after a working day.  Both are signed with the
installation's secret key, so a forged or altered token is refused before the
database is asked anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

ORGANISER_SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class JoinToken:
    credential_id: int


@dataclass(frozen=True)
class OrganiserToken:
    account_id: int


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._join = URLSafeSerializer(secret_key, salt="fair.join")
        self._organiser = URLSafeTimedSerializer(secret_key, salt="fair.organiser")

    def join(self, credential_id: int) -> str:
        return self._join.dumps({"c": credential_id})

    def organiser(self, account_id: int) -> str:
        return self._organiser.dumps({"o": account_id})

    def read(self, token: str) -> JoinToken | OrganiserToken | None:
        """What a token says, or None if it is forged, altered or expired."""
        if not isinstance(token, str) or len(token) > 512:
            return None
        try:
            return JoinToken(int(self._join.loads(token)["c"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            pass
        try:
            data = self._organiser.loads(token, max_age=ORGANISER_SESSION_SECONDS)
            return OrganiserToken(int(data["o"]))
        except (SignatureExpired, BadSignature, KeyError, TypeError, ValueError):
            return None
