"""Entry point: ``streamlit run dashboard/app.py``.

Routes between the page scripts in the top-level ``pages/`` folder. ``streamlit run`` puts only this
file's folder on ``sys.path``, so the repository root is added for ``fairgen_core`` and ``dashboard``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402  (after the path set-up above)

from dashboard import state  # noqa: E402

st.set_page_config(page_title="FairGen — fairness audit", page_icon="⚖️", layout="wide")
state.workspace_id()

PAGES = [
    st.Page(ROOT / "pages" / "data.py", title="Data", icon="📄", default=True),
    st.Page(ROOT / "pages" / "audit.py", title="Data audit", icon="🔎"),
    st.Page(ROOT / "pages" / "train.py", title="Train generator", icon="🏋️"),
    st.Page(ROOT / "pages" / "quality.py", title="Quality", icon="🧪"),
    st.Page(ROOT / "pages" / "classifier.py", title="Fair classifier & trade-off", icon="⚖️"),
    st.Page(ROOT / "pages" / "compare.py", title="Compare methods", icon="📊"),
    st.Page(ROOT / "pages" / "export.py", title="Export", icon="📦"),
]

st.navigation(PAGES).run()
