"""Keys and tokens: the join cards printed as QR codes, and the sessions they and sign-ins open.

The installation has one secret (``FAIR_SECRET_KEY``, or ``data/secret.key``).
No key signs two kinds of thing: HKDF-SHA256 (RFC 5869) derives one key per
purpose from the secret, so that a token of one kind can never pass for
another:

- ``card``: signs the join cards.  A card names a credential
  (``fair.core.access``); it only *enrols* a device, it is never a session.
- ``session``: keys the hash under which session tokens are stored.  A
  session token is 256 random bits, given to the device or the organiser's
  browser once and kept in the database only as an HMAC, so that a copy of
  the database opens no session.
- ``csrf``: signs the forms' CSRF cookies (asgi-csrf).
- ``code``: the short code printed under each card's QR code, to type where
  a camera cannot scan (``XXXX-XXXX``, 31 signs without 0/O/1/I/L: about 40
  bits, and every wrong try makes the address wait longer).
- ``resident``: signs the cookie that tells one phone's browser from
  another (a random name, hashed into the key under which the core counts an
  unconfirmed phone's wishes) and, once the phone has confirmed its number
  (``fair.core.residents``), names the resident it belongs to.  A cookie is
  not a person: only the resident it names is, and only the core makes one.
- ``venue`` and ``rating``: sign a delivery's id into the links of its venue
  card (``fair.venues``): the venue's contact confirms and checks in with
  one, the audience rates the event with the other, and neither serves
  another delivery or the other purpose.

A forged or altered card is refused before the database is asked anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

DEVICE, ORGANISER = "d", "o"  # the prefixes of the two kinds of session token
CODE_SIGNS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: what a person reads off paper and types
CODE_LENGTH = 8


def normal_code(typed: str) -> str:
    """A typed code as printed: capitals, the dash in the middle, whatever spaces or case were typed.

    NFKC first, so that a Chinese keyboard's full-width ``ＡＢ２３`` counts as
    typed; then only ASCII letters and digits, the only signs a code holds
    (``"ª".isalnum()`` is true, and a non-ASCII string cannot be compared in
    constant time).
    """
    folded = unicodedata.normalize("NFKC", typed).upper()
    signs = "".join(sign for sign in folded if sign.isascii() and sign.isalnum())[: CODE_LENGTH + 1]
    return f"{signs[:4]}-{signs[4:]}"


_SESSION_TOKEN_CHARS = 43  # token_urlsafe(32)


def derive(secret: str, purpose: str, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) of the installation's secret: one key per purpose."""
    pseudo_random = hmac.new(b"fair installation secret", secret.encode(), hashlib.sha256).digest()
    info, block, output = f"fair {purpose}".encode(), b"", b""
    counter = 1
    while len(output) < length:
        block = hmac.new(pseudo_random, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
        counter += 1
    return output[:length]


@dataclass(frozen=True)
class SessionToken:
    kind: str  # DEVICE or ORGANISER
    digest: str  # what the database keeps


class SignedId:
    """An id signed for one purpose: a token that names it, serves that purpose only, and cannot be made up."""

    def __init__(self, secret_key: str, purpose: str, key: str) -> None:
        self._serializer = URLSafeSerializer(derive(secret_key, purpose), salt=f"fair.{purpose}")
        self._key = key

    def dumps(self, id: int) -> str:
        return self._serializer.dumps({self._key: id})

    def loads(self, token: object) -> int | None:
        """The id a token names, or None if it is forged, altered or of another purpose."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        try:
            return int(self._serializer.loads(token)[self._key])
        except (BadData, KeyError, TypeError, ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class ResidentCookie:
    """What a residents' cookie says: the browser's random name, its key for the core, and the resident."""

    name: str
    key: str  # the core's key for this browser (a keyed hash of ``name``): an unconfirmed phone's wishes
    resident_id: int | None  # the person, once the number is confirmed on this phone


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._card = SignedId(secret_key, "card", "c")
        self._session = derive(secret_key, "session")
        self.csrf_key = derive(secret_key, "csrf").hex()
        self._code = derive(secret_key, "code")
        self._resident_key = derive(secret_key, "resident")
        self._resident = URLSafeSerializer(self._resident_key, salt="fair.resident")
        self._venue = SignedId(secret_key, "venue", "d")  # a delivery's link for its venue's contact
        self._rating = SignedId(secret_key, "rating", "d")  # a delivery's QR code for its audience to rate it
        self.venue_link, self.read_venue_link = self._venue.dumps, self._venue.loads
        self.rating_link, self.read_rating_link = self._rating.dumps, self._rating.loads

    def join_code(self, credential_id: int) -> str:
        """The typeable code of a card: derived from the card, so a new card (reissued) has a new code."""
        digest = int.from_bytes(hmac.new(self._code, f"card {credential_id}".encode(), hashlib.sha256).digest()[:8])
        signs = []
        for _ in range(CODE_LENGTH):
            digest, sign = divmod(digest, len(CODE_SIGNS))
            signs.append(CODE_SIGNS[sign])
        return "".join(signs[:4]) + "-" + "".join(signs[4:])

    def new_resident(self, phone: ResidentCookie | None = None, resident_id: int | None = None) -> str:
        """A residents' cookie: ``phone``'s name (a new random one if None), and the resident it is confirmed as.

        Signed so that only the fair hands them out; the resident id in it was
        put there by the fair after the core confirmed the number.
        """
        name = phone.name if phone is not None else secrets.token_urlsafe(16)
        return self._resident.dumps([name, resident_id] if resident_id is not None else name)

    def read_resident(self, token: object) -> ResidentCookie | None:
        """The phone a residents' cookie names, or None for a cookie the fair did not sign."""
        if not isinstance(token, str) or len(token) > 120:
            return None
        try:
            signed = self._resident.loads(token)
        except BadData:
            return None
        resident_id = None
        if isinstance(signed, list) and len(signed) == 2 and isinstance(signed[1], int):
            signed, resident_id = signed
        if not isinstance(signed, str):
            return None
        key = hmac.new(self._resident_key, signed.encode(), hashlib.sha256).hexdigest()[:32]
        return ResidentCookie(signed, key, resident_id)

    def card(self, credential_id: int) -> str:
        """The token printed on a join card."""
        return self._card.dumps(credential_id)

    def read_card(self, token: object) -> int | None:
        """The credential a card names, or None if it is forged, altered or not a card at all."""
        return self._card.loads(token)

    def new_session(self, kind: str) -> tuple[str, str]:
        """A fresh session token of ``kind``, and the digest the database keeps of it."""
        token = f"{kind}_{secrets.token_urlsafe(32)}"
        return token, self._digest(token)

    def read_session(self, token: object) -> SessionToken | None:
        """What kind of session a token claims to be, and its digest; None if it is not a session token."""
        if not isinstance(token, str) or len(token) != len(DEVICE) + 1 + _SESSION_TOKEN_CHARS:
            return None
        kind = token[: len(DEVICE)]
        if kind not in (DEVICE, ORGANISER) or token[len(DEVICE)] != "_":
            return None
        return SessionToken(kind, self._digest(token))

    def _digest(self, token: str) -> str:
        return hmac.new(self._session, token.encode(), hashlib.sha256).hexdigest()
