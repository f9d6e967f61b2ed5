"""Harm weights for the 14 police.uk categories, and the crime groups partnerships report on.

Two harm indices are built in, both keyed by the 14 police.uk street-level categories
(:data:`geo_csp.schema.CRIME_TYPES`):

**Cambridge Crime Harm Index (CCHI)** (Sherman, Neyroud & Neyroud 2016, *Policing* 10(3)). The weight
of an offence is the number of days of imprisonment at the Sentencing Council's *starting point* for a
first offender (fines converted to days of minimum-wage earnings). Values here are the subgroup medians
of the Cambridge sheet as transcribed in the project reference (a third-party transcription of a 2026
update; treat as approximate). police.uk categories are broad, so each weight is chosen as follows:

==============================  ==========  ===========================================================
police.uk category              days        how the weight was chosen
==============================  ==========  ===========================================================
Anti-social behaviour           policy      no CCHI value exists (not a crime); see ``asb_weight_days``
Bicycle theft                   2           CCHI "bicycle theft"
Burglary                        246.5       blend: 70% residential (273.5) + 30% non-residential (183.5);
                                            the 70/30 split is the approximate national share of
                                            residential burglary in police recorded crime
Criminal damage and arson       11.15       blend: 95% criminal damage (2) + 5% arson (185), arson being
                                            a small share of the category nationally
Drugs                           3           CCHI "drug possession": most police.uk drug offences are
                                            possession; trafficking (far higher) is under-weighted, and
                                            CCHI excludes proactively detected offences, which most drug
                                            offences are: read drug harm with care
Other crime                     5           no CCHI subgroup; a small judgement value equal to vehicle
                                            offences, as the category is mostly low-level miscellany
Other theft                     2           CCHI theft subgroups (theft from the person, bicycle theft)
Possession of weapons           273.75      CCHI "possession of weapons"
Public order                    7.5         CCHI "public order"
Robbery                         365         CCHI "robbery"
Shoplifting                     1           CCHI "shoplifting"
Theft from the person           2           CCHI "theft from the person"
Vehicle crime                   5           CCHI "vehicle offences"
Violence and sexual offences    210.6       blend: 30% violence with injury (365) + 62% without injury,
                                            stalking and harassment (10) + 3% rape (2,555) + 5% other
                                            sexual offences (taken as 365); shares approximate national
==============================  ==========  ===========================================================

**Proactively found offences.** CCHI counts only offences reported to the police, not those the police
find (a search that finds drugs or a knife). police.uk's Drugs and Possession of weapons are mostly
found that way and carry no flag, so the default index ``"cchi"`` weighs them 0; ``"cchi_all"`` weighs
them at the days above. :data:`HARM_INDEX_INFO` (and :func:`harm_info`, written into every output)
states each index's source, vintage and treatment.

**ONS Crime Severity Score (CSS)** (ONS research output 2016); geo-csp's version is *approximate*. Offence weights come from sentencing
data (roughly the average sentence, in days, with non-custodial sentences converted). The reference
gives only some per-offence weights (from a third-party transcription of the ONS data tool, so the
mapping is uncertain): robbery 746, theft from the person 86, other theft 33, shoplifting 13, bicycle
theft 10, cannabis possession 3, and four burglary codes 117 / 438 / 1,513 / 2,127. The remaining
categories are judgement values placed relative to those, stated so they can be overridden:

==============================  ==========  ===========================================================
police.uk category              points      how the weight was chosen
==============================  ==========  ===========================================================
Anti-social behaviour           policy      not a crime, no CSS weight; see ``asb_weight_days``
Bicycle theft                   10          ONS weight (transcribed)
Burglary                        438         the residential-dwelling code of the four burglary codes
                                            (transcribed; uncertain which code is which)
Criminal damage and arson       20          judgement: criminal damage is among the lowest weights
                                            (ONS names criminal damage to buildings among the lowest);
                                            arson adds a little
Drugs                           6           judgement: possession (cannabis 3, other drugs low) with a
                                            small allowance for trafficking
Other crime                     30          judgement, close to other theft
Other theft                     33          ONS weight (transcribed)
Possession of weapons           200         judgement: custodial sentences are common for bladed
                                            articles; below robbery
Public order                    25          judgement: mostly summary offences
Robbery                         746         ONS weight (transcribed)
Shoplifting                     13          ONS weight (transcribed)
Theft from the person           86          ONS weight (transcribed)
Vehicle crime                   30          judgement, close to other theft
Violence and sexual offences    300         judgement: a blend dominated by violence without injury
                                            and harassment, lifted by the rare very heavy offences
                                            (murder 7,979, attempted murder 4,663, rape)
==============================  ==========  ===========================================================

**ASB policy.** Anti-social behaviour has no value in either index. The policy is explicit: ASB
incidents weigh ``asb_weight_days`` (default 1.0, the weight of the least harmful crime, shoplifting
in CCHI), so an ASB-only analysis still has a harm measure; pass ``asb_weight_days=0`` to leave ASB out
of harm altogether. The value used is written into every output's metadata.

**Crime groups.** The named groups partnerships use (Safer Streets' *neighbourhood crime*, serious
acquisitive crime, violence, ASB, drugs) are in :data:`CRIME_GROUPS`; user-defined groups are passed as
a mapping to :func:`resolve_crime_types`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

import numpy as np
import pandas as pd

from geo_csp import qualifiers, schema
from geo_csp._errors import ParameterError

__all__ = [
    "CCHI_DAYS",
    "CRIME_GROUPS",
    "CSS_POINTS",
    "HARM_INDEX_INFO",
    "HARM_INDICES",
    "PROACTIVE_CATEGORIES",
    "DEFAULT_ASB_WEIGHT",
    "harm_info",
    "harm_weights",
    "incident_harm",
    "resolve_crime_types",
]

HarmIndex = Literal["cchi", "cchi_all", "css"]
#: ``"cchi"`` follows the CCHI rule and leaves proactively found offences out of harm; ``"cchi_all"``
#: weighs them at their CCHI days; ``"css"`` is an approximate ONS Crime Severity Score.
HARM_INDICES: Final = ("cchi", "cchi_all", "css")
#: police.uk categories mostly found by police activity (CCHI excludes proactively detected offences).
PROACTIVE_CATEGORIES: Final = ("Drugs", "Possession of weapons")
#: What each index is, where its weights come from and how old they are: written into every output.
HARM_INDEX_INFO: Final = {
    "cchi": {
        "name": "Cambridge Crime Harm Index (CCHI), proactively found offences excluded",
        "source": (
            "Sherman, Neyroud & Neyroud 2016, Policing 10(3); subgroup medians of the Cambridge sheet as "
            "transcribed by a third party, mapped to the 14 police.uk categories (blends documented in "
            "geo_csp.harm)"
        ),
        "vintage": "2016 index; weights from a 2026 update of the Cambridge sheet (third-party transcription)",
        "approximate": True,
        "proactive": "excluded: police.uk Drugs and Possession of weapons weigh 0, as CCHI counts only "
        "offences not found by police activity (use cchi_all to weigh them)",
    },
    "cchi_all": {
        "name": "Cambridge Crime Harm Index (CCHI), every category weighted",
        "source": "as cchi",
        "vintage": "as cchi",
        "approximate": True,
        "proactive": "included: police.uk Drugs and Possession of weapons weigh their CCHI days, although CCHI "
        "excludes proactively found offences",
    },
    "css": {
        "name": "approximate ONS Crime Severity Score (CSS)",
        "source": (
            "ONS Crime Severity Score research output (2016): six per-offence weights transcribed by a third "
            "party, the other categories judgement values placed relative to them (geo_csp.harm)"
        ),
        "vintage": "ONS 2016 research output weights",
        "approximate": True,
        "proactive": "included (CSS weighs every police recorded offence)",
    },
}
ASB: Final = "Anti-social behaviour"
DEFAULT_ASB_WEIGHT: Final = 1.0

#: CCHI days per police.uk category (ASB excluded: its weight is a policy, see module docstring).
CCHI_DAYS: Final = {
    "Bicycle theft": 2.0,
    "Burglary": 0.7 * 273.5 + 0.3 * 183.5,
    "Criminal damage and arson": 0.95 * 2.0 + 0.05 * 185.0,
    "Drugs": 3.0,
    "Other crime": 5.0,
    "Other theft": 2.0,
    "Possession of weapons": 273.75,
    "Public order": 7.5,
    "Robbery": 365.0,
    "Shoplifting": 1.0,
    "Theft from the person": 2.0,
    "Vehicle crime": 5.0,
    "Violence and sexual offences": 0.30 * 365.0 + 0.62 * 10.0 + 0.03 * 2555.0 + 0.05 * 365.0,
}

#: ONS Crime Severity Score points per police.uk category (ASB excluded, see module docstring).
CSS_POINTS: Final = {
    "Bicycle theft": 10.0,
    "Burglary": 438.0,
    "Criminal damage and arson": 20.0,
    "Drugs": 6.0,
    "Other crime": 30.0,
    "Other theft": 33.0,
    "Possession of weapons": 200.0,
    "Public order": 25.0,
    "Robbery": 746.0,
    "Shoplifting": 13.0,
    "Theft from the person": 86.0,
    "Vehicle crime": 30.0,
    "Violence and sexual offences": 300.0,
}

#: Named crime groups (police.uk categories). "neighbourhood" is the Home Office / Safer Streets
#: neighbourhood crime basket; "serious_acquisitive" adds no categories police.uk can separate
#: beyond burglary, robbery and vehicle crime.
CRIME_GROUPS: Final = {
    "neighbourhood": ("Burglary", "Robbery", "Theft from the person", "Vehicle crime"),
    "serious_acquisitive": ("Burglary", "Robbery", "Vehicle crime"),
    "violence": ("Violence and sexual offences", "Robbery", "Possession of weapons"),
    "asb": (ASB,),
    "drugs": ("Drugs",),
}


def harm_weights(index: HarmIndex = "cchi", *, asb_weight_days: float = DEFAULT_ASB_WEIGHT) -> pd.Series:
    """Harm weight of each of the 14 police.uk categories.

    Parameters
    ----------
    index
        ``"cchi"`` (Cambridge Crime Harm Index, days, with police.uk Drugs and Possession of weapons at
        0 as CCHI excludes proactively found offences), ``"cchi_all"`` (CCHI days for every category)
        or ``"css"`` (approximate ONS Crime Severity Score points).
    asb_weight_days
        Weight given to anti-social behaviour, which neither index covers (0 leaves ASB out of harm).

    Returns
    -------
    pandas.Series
        float64 weights indexed by category, in :data:`geo_csp.schema.CRIME_TYPES` order, named
        ``harm``.
    """
    if index not in HARM_INDICES:
        raise ParameterError(f"harm index must be one of {HARM_INDICES}, not {index!r}")
    if not np.isfinite(asb_weight_days) or asb_weight_days < 0:
        raise ParameterError(f"`asb_weight_days` must be a finite number >= 0; got {asb_weight_days!r}")
    table = CSS_POINTS if index == "css" else CCHI_DAYS
    values = {**table, ASB: float(asb_weight_days)}
    if index == "cchi":
        values.update({c: 0.0 for c in PROACTIVE_CATEGORIES})
    return pd.Series(
        [values[c] for c in schema.CRIME_TYPES], index=list(schema.CRIME_TYPES), dtype="float64", name=schema.HARM
    )


def harm_info(index: HarmIndex = "cchi", *, asb_weight_days: float = DEFAULT_ASB_WEIGHT) -> dict[str, object]:
    """What a harm measure is, for every output's metadata: the index, its source and vintage, whether it is
    approximate, how proactively found offences and ASB are treated, and the weights themselves."""
    weights = harm_weights(index, asb_weight_days=asb_weight_days)
    return {
        "index": index,
        **HARM_INDEX_INFO[index],
        "asb_weight_days": float(asb_weight_days),
        "asb": "ASB has no value in either index; it weighs asb_weight_days (a policy, see geo_csp.harm)",
        "weights": {k: float(v) for k, v in weights.items()},
    }


def incident_harm(
    crime_types: pd.Series | np.ndarray,
    *,
    index: HarmIndex = "cchi",
    asb_weight_days: float = DEFAULT_ASB_WEIGHT,
) -> np.ndarray:
    """Harm weight per incident from its category (0 for categories outside the 14, e.g. stop and search)."""
    weights = harm_weights(index, asb_weight_days=asb_weight_days)
    out: np.ndarray = (
        pd.Series(np.asarray(crime_types, dtype=object)).map(weights).fillna(0.0).to_numpy(dtype="float64")
    )
    return out


def resolve_crime_types(
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    *,
    groups: Mapping[str, Iterable[str]] | None = None,
) -> tuple[str, ...] | None:
    """The categories selected by explicit ``crime_types`` and/or a named ``group`` (union).

    Parameters
    ----------
    crime_types
        police.uk categories (or partner categories); ``None`` for no filter by type.
    group
        A key of :data:`CRIME_GROUPS` or of ``groups``; a flag group (:func:`geo_csp.qualifiers.qualified_group`,
        ``"domestic"``) adds no categories, as it selects records by their qualifier flag (the cube does).
    groups
        User-defined groups, name -> categories; they override built-in groups of the same name.

    Returns
    -------
    tuple of str or None
        Sorted unique categories, or ``None`` when neither argument filters.
    """
    table = {**CRIME_GROUPS, **{k: tuple(v) for k, v in (groups or {}).items()}}
    selected: set[str] = set()
    if group is not None and qualifiers.qualified_group(group, groups=groups) is not None:
        group = None  # a flag group selects rows, not categories: the cube applies its mask
        if crime_types is None:
            return None
    if group is not None:
        if group not in table:
            flagged = sorted({*qualifiers.QUALIFIED_GROUPS, *qualifiers.GROUP_ALIASES})
            raise ParameterError(
                f"unknown crime group {group!r}; choose one of {sorted(table)}, a flag group ({', '.join(flagged)}) "
                "or define it"
            )
        selected |= set(table[group])
    if crime_types is not None:
        types = [crime_types] if isinstance(crime_types, str) else list(crime_types)
        if not types:
            raise ParameterError("`crime_types` is empty; pass None for every category")
        selected |= set(types)
    if group is None and crime_types is None:
        return None
    return tuple(sorted(selected))
