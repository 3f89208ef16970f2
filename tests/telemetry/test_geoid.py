import numpy as np
import pytest

from telemetry.geoid import GeoidUnavailable, find_grid, load_geoid


def test_undulations_match_published_egm96_values() -> None:
    geoid = load_geoid()
    # EGM96 at the Gulf of Guinea origin, the poles and the Indian Ocean low (NGA's figures)
    n = geoid.undulation_m(np.array([0.0, 90.0, -90.0, 4.75]), np.array([0.0, 0.0, 0.0, 78.75]))
    assert n == pytest.approx([17.16, 13.61, -29.53, -106.99], abs=0.05)


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


def test_a_missing_grid_is_named(tmp_path) -> None:
    with pytest.raises(GeoidUnavailable, match="no such geoid grid"):
        load_geoid(tmp_path / "egm96_15.gtx")
    assert find_grid(tmp_path / "x.gtx") == tmp_path / "x.gtx"
