"""The venue's photo at check-in: an image checked, stored under the photos folder, and shown to the parties.

``POST /venue/<token>/photo`` takes the image itself as the body (JPEG, PNG or
WebP, at most 2 MB, checked by its first bytes, not by what the request says
it is), with the page's CSRF token.  The file is written under a name made of
the delivery's id and the image's hash, then the core records it on the
delivery (``delivery.attach_photo``, for the team, as the link's other steps).
``GET /deliveries/<id>/photo`` shows it to the delivery's team, its booth and
the organiser.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from fair.core import Actor, FairError, execute, queries
from fair.core.errors import N_, Code
from fair.i18n import gettext
from fair.limits import MAX_UPLOAD_BYTES
from fair.models import Delivery
from fair.pages import locale_of, path_id
from fair.venues import NOT_A_LINK
from fair.web import caller_of, error_response

KINDS = {b"\xff\xd8\xff": ("jpg", "image/jpeg"), b"\x89PNG\r\n\x1a\n": ("png", "image/png")}
MEDIA = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def kind_of(image: bytes) -> str | None:
    """The image's kind by its first bytes; None for anything else."""
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "webp"
    return next((kind for magic, (kind, _) in KINDS.items() if image.startswith(magic)), None)


async def upload(request: Request) -> Response:
    state = request.app.state
    delivery_id = state.tokens.read_venue_link(request.path_params["token"])
    try:
        if delivery_id is None:
            raise FairError(Code.forbidden, NOT_A_LINK)
        image = await request.body()
        kind = kind_of(image)
        if kind is None or len(image) > MAX_UPLOAD_BYTES:
            raise FairError(Code.invalid_input, N_("A photo is a JPEG, PNG or WebP image of at most 2 MB."))
        async with state.db.read() as session:
            delivery = await session.get(Delivery, delivery_id)
        if delivery is None or delivery.fair_id != state.fair_id:
            raise FairError(Code.forbidden, NOT_A_LINK)
        name = f"{delivery_id}-{hashlib.sha256(image).hexdigest()[:32]}.{kind}"
        created = _store(state.settings.photos, name, image)
        team = Actor.team(state.fair_id, delivery.team_id)
        payload = {"delivery_id": delivery_id, "photo": name}
        # Each upload is a request of its own (one refused before the check-in must not answer the next);
        # the same image twice is one file all the same, named by its hash.
        try:
            await execute(state.db, team, "delivery.attach_photo", payload, f"photo-{secrets.token_hex(8)}")
        except FairError:
            if created:  # refused: leave nothing behind
                (state.settings.photos / name).unlink(missing_ok=True)
            raise
    except FairError as error:
        return error_response(request, error)
    message = gettext(locale_of(request), N_("Photo saved. Thank you!"))
    return JSONResponse({"ok": True, "data": {"photo": True, "message": message}})


def _store(folder, name: str, image: bytes) -> bool:
    """Write the image whole or not at all (a temporary file, then renamed; private to this user).

    False when it was there already.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        return False  # the same image again: its name is its hash
    partial = folder / f".{name}.part"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(image)
    os.replace(partial, target)
    return True


async def show(request: Request) -> Response:
    delivery_id = path_id(request, "delivery_id")
    try:
        actor = await caller_of(request)
        async with request.app.state.db.read() as session:
            mine = {d["id"] for d in await queries.deliveries(session, actor)}
            delivery = await session.get(Delivery, delivery_id)
        if delivery_id not in mine or not delivery.photo:
            raise FairError(Code.not_found, N_("There is no such photo."))
    except FairError as error:
        return error_response(request, error)
    kind = delivery.photo.rsplit(".", 1)[1]
    return FileResponse(request.app.state.settings.photos / delivery.photo, media_type=MEDIA[kind])


routes = [
    Route("/venue/{token}/photo", upload, methods=["POST"]),
    Route("/deliveries/{delivery_id}/photo", show),
]
