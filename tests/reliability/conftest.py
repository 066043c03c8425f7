import pytest

from tests.reliability.live import LiveSite


@pytest.fixture
def site(tmp_path):
    live = LiveSite(tmp_path)
    live.setup()
    live.start()
    try:
        yield live
    finally:
        live.stop()
