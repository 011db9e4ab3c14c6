"""The Streamlit dashboard: entry script, session state, cached loading and charts."""
