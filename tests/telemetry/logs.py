"""Build onboard logs for tests: ArduPilot DataFlash bytes packed with pymavlink's own format
tables, and a simulated circle flight to fill them."""

import math
import random
import struct

from pymavlink.DFReader import DFFormat

SITE_LAT, SITE_LON, HOME_AMSL_M = 49.99, 36.23, 150.0
RADIUS_M, HEIGHT_M, SPEED_MPS = 100.0, 50.0, 10.0
TYPES = {  # ArduPilot 4.x layouts
    "GPS": ("QBBIHBcLLeffffB", "TimeUS,I,Status,GMS,GWk,NSats,HDop,Lat,Lng,Alt,Spd,GCrs,VZ,Yaw,U"),
    "POS": ("QLLfff", "TimeUS,Lat,Lng,Alt,RelHomeAlt,RelOriginAlt"),
    "ATT": ("QccccCCCCB", "TimeUS,DesRoll,Roll,DesPitch,Pitch,DesYaw,Yaw,ErrRP,ErrYaw,AEKF"),
    "IMU": ("QBffffffIIfBBHH",
            "TimeUS,I,GyrX,GyrY,GyrZ,AccX,AccY,AccZ,EG,EA,T,GH,AH,GHz,AHz"),
    "BAT": ("QBfffffcfBBB", "TimeUS,Inst,Volt,VoltR,Curr,CurrTot,EnrgTot,Temp,Res,RemPct,H,SH"),
    "MSG": ("QZ", "TimeUS,Message"),
    "PARM": ("QNff", "TimeUS,Name,Value,Default"),
    # every format character DataFlash knows (a format holds at most 16)
    "TSTA": ("QabBghHiIfnNZcC", "TimeUS,Arr,B1,B2,G,H1,H2,I1,I2,F,N4,N16,Z64,C1,C2"),
    "TSTB": ("QeELdMqQ", "TimeUS,E1,E2,Lat,D,Mode,Q1,Q2"),
}


class DataFlashWriter:
    """Messages as ArduPilot writes them: `A3 95 type body`, each type's FMT before first use."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.formats: dict[str, DFFormat] = {}
        self._define("FMT", "BBnNZ", "Type,Length,Name,Format,Columns", 0x80)

    def _define(self, name: str, formats: str, columns: str, kind: int) -> None:
        definition = DFFormat(kind, name, 0, formats, columns)
        definition.len = struct.calcsize(definition.msg_struct) + 3
        self.formats[name] = definition
        self.write("FMT", kind, definition.len, name.encode(), formats.encode(), columns.encode())

    def write(self, name: str, *values: object) -> None:
        if name not in self.formats:
            self._define(name, *TYPES[name], 0x81 + len(self.formats))
        definition = self.formats[name]
        self.data += bytes([0xA3, 0x95, definition.type])
        self.data += struct.pack(definition.msg_struct, *values)


def circle_flight(seconds: int = 60, *, garbage: bool = False, seed: int = 1) -> bytes:
    """A DataFlash log of a 100 m circle at 50 m: POS, ATT, IMU at 10 Hz, GPS 5 Hz, BAT 1 Hz."""
    rng, log = random.Random(seed), DataFlashWriter()
    log.write("MSG", 0, b"ArduCopter V4.5.7 (test)")
    log.write("PARM", 0, b"BATT_CAPACITY", 5200.0, 3300.0)
    for step in range(seconds * 10):
        t_us, angle = 1_000_000 + step * 100_000, step * 0.1 * SPEED_MPS / RADIUS_M
        lat, lon = _circle(angle)
        yaw_deg = math.degrees(angle + math.pi / 2) % 360
        log.write("POS", t_us, round(lat * 1e7), round(lon * 1e7), HOME_AMSL_M + HEIGHT_M,
                  HEIGHT_M, HEIGHT_M)
        log.write("ATT", t_us + 10, 0, 250, 0, -120, round(yaw_deg * 100), round(yaw_deg * 100),
                  3, 5, 1)
        log.write("IMU", t_us + 20, 0, 0.01, -0.02, SPEED_MPS / RADIUS_M, 0.1, 0.2, -9.8,
                  0, 0, 35.5, 1, 1, 1000, 1000)
        if step % 2 == 0:
            log.write("GPS", t_us + 30, 0, 3, 1000 * step, 2300, 14, 80, round(lat * 1e7),
                      round(lon * 1e7), round((HOME_AMSL_M + HEIGHT_M) * 100), SPEED_MPS,
                      yaw_deg, -0.5, 0.0, 1)
        if step % 10 == 0:
            log.write("BAT", t_us + 40, 0, 16.8 - step * 0.001, 16.9, 12.5, step * 0.35,
                      step * 0.005, 2500, 0.01, max(100 - step // 100, 0), 0, 0)
        if step % 30 == 0:
            values = _every_format(rng)
            log.write("TSTA", t_us + 50, *values[:14])
            log.write("TSTB", t_us + 60, *values[14:])
        if garbage and step % 97 == 5:
            log.data += rng.randbytes(rng.randrange(1, 60))
    return bytes(log.data)


def _circle(angle: float) -> tuple[float, float]:
    north, east = RADIUS_M * math.cos(angle), RADIUS_M * math.sin(angle)
    return (SITE_LAT + north / 111_200,
            SITE_LON + east / (111_320 * math.cos(math.radians(SITE_LAT))))


def _every_format(rng: random.Random) -> list[object]:
    text = "Ünïcode ok".encode() if rng.random() < 0.5 else b"caf\xe9 latin-1"
    return [bytes(rng.randbytes(64)), rng.randrange(-128, 128), rng.randrange(256),
            rng.uniform(-100, 100), rng.randrange(-32768, 32768), rng.randrange(65536),
            rng.randrange(-2**31, 2**31), rng.randrange(2**32), rng.uniform(-1e6, 1e6),
            b"ab", b"sixteen chars ok", text, rng.randrange(-32768, 32768), rng.randrange(65536),
            rng.randrange(-2**31, 2**31), rng.randrange(2**32), rng.randrange(-900_000_000,
                                                                                900_000_000),
            rng.uniform(-1e9, 1e9), rng.randrange(-128, 128), rng.randrange(-2**63, 2**63),
            rng.randrange(2**64)]
