"""Entry point: ``streamlit run dashboard/app.py``.

Routes between the page scripts in the top-level ``pages/`` folder. ``streamlit run`` puts only this
file's folder on ``sys.path``, so the repository root is added for ``fairgen_core`` and ``dashboard``.
Old run folders are pruned here, at most once an hour per server process (see ``dashboard/housekeeping.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402  (after the path set-up above)

from dashboard import state  # noqa: E402
from dashboard.housekeeping import housekeeping  # noqa: E402

st.set_page_config(page_title="FairGen — fairness audit", page_icon=":material/balance:", layout="wide")
state.workspace_id()
housekeeping()

PAGES = [
    st.Page(ROOT / "pages" / "data.py", title="Data", icon=":material/table:", default=True),
    st.Page(ROOT / "pages" / "audit.py", title="Data audit", icon=":material/search:"),
    st.Page(ROOT / "pages" / "model_audit.py", title="Model audit", icon=":material/fact_check:"),
    st.Page(ROOT / "pages" / "train.py", title="Train generator", icon=":material/model_training:"),
    st.Page(ROOT / "pages" / "quality.py", title="Quality", icon=":material/science:"),
    st.Page(ROOT / "pages" / "classifier.py", title="Fair classifier & trade-off", icon=":material/balance:"),
    st.Page(ROOT / "pages" / "compare.py", title="Compare methods", icon=":material/leaderboard:"),
    st.Page(ROOT / "pages" / "export.py", title="Export", icon=":material/download:"),
]

st.navigation(PAGES).run()
