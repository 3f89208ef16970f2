"""Bridges from external simulators: a websocket event client, and a DIS PDU codec."""
