import numpy as np
import pytest

from telemetry.geoid import HEADER, GeoidUnavailable, load_geoid


def test_undulations_match_published_egm96_values() -> None:
    geoid = load_geoid()
    # EGM96 at the Gulf of Guinea origin, the poles and the Indian Ocean low (NGA's figures);
    # the shipped 30' grid interpolates the low, which sits between its nodes, to within 0.5 m
    n = geoid.undulation_m(np.array([0.0, 90.0, -90.0, 4.75]), np.array([0.0, 0.0, 0.0, 78.75]))
    assert n[:3] == pytest.approx([17.16, 13.61, -29.53], abs=0.05)
    assert n[3] == pytest.approx(-106.99, abs=0.5)


def test_heights_convert_both_ways_and_wrap_the_antimeridian() -> None:
    geoid = load_geoid()
    lat, lon = np.array([50.0, 50.0]), np.array([179.99, -180.01])
    assert geoid.undulation_m(lat, lon)[0] == pytest.approx(geoid.undulation_m(lat, lon)[1],
                                                             abs=0.01)
    msl = np.array([100.0, 2500.0])
    ellipsoid = geoid.to_ellipsoid(np.array([50.85, 50.45]), np.array([4.35, 30.52]), msl)
    assert ellipsoid - msl == pytest.approx([45.5, 25.2], abs=0.5)
    assert geoid.to_msl(np.array([50.85, 50.45]), np.array([4.35, 30.52]), ellipsoid) \
        == pytest.approx(msl)


def test_a_named_gtx_grid_is_read_instead(tmp_path) -> None:
    # a 3 x 4 grid, 1 degree apart from (10 N, 20 E), N = row * 10 + column metres
    header = np.array([(10.0, 20.0, 1.0, 1.0, 3, 4)], HEADER).tobytes()
    values = np.arange(3)[:, None] * 10.0 + np.arange(4)[None, :]
    path = tmp_path / "tiny.gtx"
    path.write_bytes(header + values.astype(">f4").tobytes())
    geoid = load_geoid(path)
    assert geoid.undulation_m(np.array([11.5]), np.array([21.25])) == pytest.approx([16.25])


def test_a_missing_grid_is_named(tmp_path) -> None:
    with pytest.raises(GeoidUnavailable, match="no such geoid grid"):
        load_geoid(tmp_path / "egm96_15.gtx")
