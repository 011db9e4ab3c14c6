"""Quick start (a) really serves: `streamlit run dashboard/app.py` answers its health check and page."""

from __future__ import annotations

import urllib.request

from tests.streamlit_server import streamlit_server


def test_streamlit_run_serves_the_dashboard() -> None:
    with streamlit_server() as url, urllib.request.urlopen(f"{url}/", timeout=5) as response:
        assert "<title>Streamlit</title>" in response.read().decode()
