"""Gaps and priorities page."""

import streamlit as st

from geo_csp.app import widgets

st.title("Gaps and priorities")
widgets.unavailable("Gaps and priorities")
