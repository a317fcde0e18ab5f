"""The Government of Canada Service Inventory's codes and cell conventions, as pure functions.

Vocabularies come from the inventory's data dictionary (service_data_dict.json): channel
codes ONL/TEL/PERSON/POST/EML/FAX/OTH, standard types TML/ACS/ACY/OTH, and the volume
convention "a number, NA (the channel cannot be used) or ND (no data was collected)".
"""

from __future__ import annotations

import re

# the dictionary's channel codes (ss.channel, si.client_feedback_channel) -> our channels
CHANNEL_CODES = {
    "ONL": "online",
    "TEL": "phone",
    "PERSON": "in_person",
    "POST": "mail",
    "EML": "email",
    "FAX": "fax",
    "OTH": "other",
}

# ss.type -> standard_type
STANDARD_TYPES = {"TML": "timeliness", "ACS": "access", "ACY": "accuracy", "OTH": "other"}

# si volume columns -> (channel, kind). Applications are transactions; telephone
# enquiries and website visits are interactions ("not included in Total Applications").
VOLUME_COLUMNS = {
    "num_applications_online": ("online", "application"),
    "num_applications_by_phone": ("phone", "application"),
    "num_applications_in_person": ("in_person", "application"),
    "num_applications_by_mail": ("mail", "application"),
    "num_applications_by_email": ("email", "application"),
    "num_applications_by_fax": ("fax", "application"),
    "num_applications_by_other": ("other", "application"),
    "num_phone_enquiries": ("phone", "phone_enquiry"),
    "num_website_visits": ("online", "website_visit"),
}

# the not-available markers the dictionary defines for volume cells
NOT_AVAILABLE = {"NA": "not_applicable", "ND": "not_collected"}

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_AMOUNT = re.compile(r"^\$?\s*(\d+(?:\.\d+)?)$")


def channel_of(code: str | None) -> str | None:
    """'TEL' -> 'phone'; an unknown code -> None (the code itself is kept beside it)."""
    return CHANNEL_CODES.get((code or "").strip().upper())


def volume_cell(text: str | None) -> tuple[str | None, str]:
    """A volume cell -> (value for the contract, status).

    Blank -> (None, 'blank'); NA/ND -> (None, 'not_applicable'/'not_collected'); a
    number -> (number, 'reported'). Any other text is passed on as it is, status
    'unreadable': the contract cannot read it as a number and quarantines the row.
    """
    value = (text or "").strip()
    if not value:
        return None, "blank"
    marker = NOT_AVAILABLE.get(value.upper())
    if marker:
        return None, marker
    return value, "reported" if _NUMBER.match(value) else "unreadable"


def positive(text: str | None) -> bool:
    value, status = volume_cell(text)
    return status == "reported" and float(value) > 0


def id_list(text: str | None) -> str | None:
    """'BRA02, BRB01' or "'BRA02','BRB01'" -> 'BRA02;BRB01' (blank -> None)."""
    parts = [p.strip().strip("'\"[]{} ").strip() for p in re.split(r"[,;]", text or "")]
    ids = [p for p in parts if p]
    return ";".join(dict.fromkeys(ids)) or None


_QUOTED = re.compile(r"""'([^']*)'|"([^"]*)\"""")


def quoted_names(text: str | None) -> str | None:
    """The inventory's program-name lists, Python-list style, -> 'name;name'.

    "'Grain Quality', 'Grain Research'" -> 'Grain Quality;Grain Research'; a name with an
    apostrophe comes in double quotes ("Services de gestion de l'information"); a comma
    inside the quotes belongs to the name ('Infrastructure, Tolls and Export
    Applications'). Text without quotes is one name.
    """
    value = (text or "").strip()
    if not value:
        return None
    names = []
    for single, double in _QUOTED.findall(value):
        name = (single if single or not double else double).strip()
        name = name.strip("'\"").strip()
        if name:
            names.append(name)
    if not names:
        names = [value]
    return ";".join(names)


def fee_amount(text: str | None) -> str | None:
    """A fee stated as an amount ('25', '$25.50') -> '25.50'; the Y/N flag -> None."""
    match = _AMOUNT.match((text or "").strip())
    return match.group(1) if match else None


def target_share(text: str | None) -> tuple[str | None, str]:
    """A standard's target -> (share 0..1 as text, scale).

    The dictionary asks for "a number between 0 and 1"; a value above 1 and at most 100
    is read as a percentage (90 -> 0.9). Blank -> (None, 'blank'); text that is no
    number is passed on (the contract quarantines it); above 100 is passed on too and
    fails the 0..1 rule.
    """
    value = (text or "").strip()
    if not value:
        return None, "blank"
    if not _NUMBER.match(value):
        return value, "unreadable"
    number = float(value)
    if 1 < number <= 100:
        return repr(number / 100), "percent"
    return value, "share"


def standard_id(text: str | None) -> str | None:
    """A service standard id, or None for the placeholders some departments enter
    instead ('NA', 'Not Available', 'No service standard ID'): an id has a digit and no
    spaces."""
    value = (text or "").strip()
    if not value or " " in value or not any(ch.isdigit() for ch in value):
        return None
    return value
