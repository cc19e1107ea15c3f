"""The live adapter: Socket.IO connections, rooms and the publisher of the event log."""

from fair.live.server import Live

__all__ = ["Live"]
