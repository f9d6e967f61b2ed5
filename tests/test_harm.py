"""Harm weights (CCHI, CSS) for the 14 police.uk categories, the ASB policy, and crime groups."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from geo_csp import harm, schema
from geo_csp._errors import ParameterError


@pytest.mark.parametrize("index", ["cchi_all", "css"])
def test_every_category_has_a_positive_weight(index):
    w = harm.harm_weights(index)
    assert list(w.index) == list(schema.CRIME_TYPES)
    assert w.dtype == np.float64 and (w > 0).all()


def test_cchi_leaves_proactively_found_offences_out_by_default():
    w, everything = harm.harm_weights("cchi"), harm.harm_weights("cchi_all")
    assert (w["Drugs"], w["Possession of weapons"]) == (0.0, 0.0)
    others = [c for c in schema.CRIME_TYPES if c not in harm.PROACTIVE_CATEGORIES]
    assert_allclose(w[others], everything[others]) and (w[others] > 0).all()
    info = harm.harm_info("cchi")
    assert "excluded" in info["proactive"] and info["weights"]["Drugs"] == 0.0
    assert info["source"].startswith("Sherman, Neyroud & Neyroud 2016") and "2026" in info["vintage"]
    assert harm.harm_info("css")["name"].startswith("approximate ONS Crime Severity Score")
    assert harm.harm_info("css", asb_weight_days=2.0)["asb_weight_days"] == 2.0


def test_cchi_known_values_from_the_reference():
    w = harm.harm_weights("cchi_all")
    assert w["Robbery"] == 365.0
    assert w["Possession of weapons"] == 273.75
    assert w["Public order"] == 7.5
    assert w["Shoplifting"] == 1.0
    assert w["Theft from the person"] == 2.0
    assert w["Bicycle theft"] == 2.0
    assert w["Vehicle crime"] == 5.0
    assert w["Drugs"] == 3.0
    assert_allclose(w["Burglary"], 0.7 * 273.5 + 0.3 * 183.5)  # 246.5: residential/non-residential blend
    # the blend sits between the CCHI subgroups it mixes
    assert 183.5 < w["Burglary"] < 273.5
    assert 10 < w["Violence and sexual offences"] < 2555


def test_css_known_values_from_the_reference():
    w = harm.harm_weights("css")
    assert (w["Robbery"], w["Theft from the person"], w["Other theft"], w["Shoplifting"], w["Bicycle theft"]) == (
        746.0,
        86.0,
        33.0,
        13.0,
        10.0,
    )


def test_asb_policy_is_explicit_and_switchable():
    assert harm.harm_weights("cchi")["Anti-social behaviour"] == harm.DEFAULT_ASB_WEIGHT == 1.0
    assert harm.harm_weights("cchi", asb_weight_days=0)["Anti-social behaviour"] == 0.0
    assert harm.harm_weights("css", asb_weight_days=4.5)["Anti-social behaviour"] == 4.5
    per = harm.incident_harm(
        np.array(["Anti-social behaviour", "Robbery", "Stop and search"], dtype=object), asb_weight_days=0.0
    )
    assert_allclose(per, [0.0, 365.0, 0.0])
    with pytest.raises(ParameterError, match="asb_weight_days"):
        harm.harm_weights("cchi", asb_weight_days=-1)
    with pytest.raises(ParameterError, match="harm index"):
        harm.harm_weights("chi")


def test_crime_groups_and_user_groups():
    assert harm.resolve_crime_types(group="neighbourhood") == (
        "Burglary",
        "Robbery",
        "Theft from the person",
        "Vehicle crime",
    )
    assert harm.resolve_crime_types() is None
    assert harm.resolve_crime_types(["Drugs"], "asb") == ("Anti-social behaviour", "Drugs")
    assert harm.resolve_crime_types(
        group="night", groups={"night": ["Public order", "Violence and sexual offences"]}
    ) == ("Public order", "Violence and sexual offences")
    assert all(set(v) <= set(schema.CRIME_TYPES) for v in harm.CRIME_GROUPS.values())
    with pytest.raises(ParameterError, match="unknown crime group 'acquisitive'"):
        harm.resolve_crime_types(group="acquisitive")
