"""MAVLink telemetry: decoding, storage and flight summaries."""

from telemetry.decode import Decoded, DecodeStats, StreamDecoder, decode, decode_stream, decode_tlog

__all__ = ["DecodeStats", "Decoded", "StreamDecoder", "decode", "decode_stream", "decode_tlog"]
