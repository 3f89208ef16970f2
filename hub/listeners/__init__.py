"""Network listeners that are not HTTP: MAVLink over UDP/TCP, DIS."""
