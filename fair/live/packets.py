"""Socket.IO packets that are checked before they are decoded, so that every event gets an answer.

python-socketio hands each frame's JSON to the decoder as it is: a frame
nested about 5,000 levels deep (far under the size limit) raises
RecursionError inside the decoder, and a frame whose data is not
``["event", ...]`` raises in the server; either way the sender never gets an
acknowledgement and the log gets a traceback.  ``BoundedPacket`` measures the
nesting on the text first (``fair.limits.nesting_within``, linear and in C)
and turns a frame it will not decode into the event ``MALFORMED``, keeping
the frame's ack id: no handler has that name, so the server's catch-all
handler answers it with ``invalid_input`` like any other bad input.
"""

from __future__ import annotations

import re

from socketio import packet

from fair.limits import MAX_WIRE_DEPTH, nesting_within

_JSON_START = re.compile(r'[\[{"]')
MALFORMED = "\x00malformed"  # an event name no client sends: the frame could not be read


class BoundedPacket(packet.Packet):
    uses_binary_events = False  # the fair sends and takes JSON only

    def decode(self, encoded_packet):
        if not isinstance(encoded_packet, str):
            return self._malformed()
        try:
            attachments = self._decode_bounded(encoded_packet)
        except (ValueError, TypeError, IndexError, RecursionError):
            return self._malformed()
        if self.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK) or attachments:
            return self._malformed()
        if self.packet_type == packet.EVENT and not (
            isinstance(self.data, list) and self.data and isinstance(self.data[0], str)
        ):
            return self._malformed()
        return 0

    def _decode_bounded(self, encoded_packet: str) -> int:
        # The header (type, attachments, namespace, ack id) is read by python-socketio; the JSON after it
        # only once its nesting is known to be shallow.
        if not nesting_within(encoded_packet, MAX_WIRE_DEPTH):
            start = _JSON_START.search(encoded_packet)
            super().decode(encoded_packet[: start.start()] if start else "")  # the header alone: keep the ack id
            raise ValueError("nested too deep")
        return super().decode(encoded_packet)

    def _malformed(self) -> int:
        if self.packet_type not in (packet.CONNECT, packet.DISCONNECT, packet.ACK):
            self.packet_type = packet.EVENT
        self.data = [MALFORMED] if self.packet_type == packet.EVENT else None
        return 0
