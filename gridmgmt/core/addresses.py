"""Street addresses (路名 + 门牌号) in one comparable form, for matching ledgers to buildings.

Ledgers write addresses as people do (``学院路１８号``, ``学院路 18 号``,
``18弄``); OSM carries ``addr:street`` and ``addr:housenumber`` (``18号``,
``18``). :func:`address_key` folds both to ``"学院路|18"``:

- full-width characters (digits, letters, spaces, ``－``) become half-width;
- spaces and the separators ``·``, ``.`` and ``,`` go;
- a house number loses its 号/弄/栋/幢/号楼/座 suffix and a leading
  ``No.``; ``18号-2`` and ``18-2`` become ``18-2``;
- Latin letters are lower-cased;
- a street loses a leading province/city/district (``上海市黄浦区``).

A number written ``18弄3号`` (lane 18, house 3) keeps both parts: ``18-3``.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s·.,，、]+")
_SUFFIX = re.compile(r"(号楼|号|弄|栋|幢|座|室)$")
_LANE_HOUSE = re.compile(r"^(\d+)弄(\d+)号?$")
_NUMBER_PREFIX = re.compile(r"^(no|№|#)", re.IGNORECASE)
_DASHES = re.compile(r"[－—–~～]")
_ADMIN_PREFIX = re.compile(r"^.{2,7}?(省|自治区|市|新区|区|县)")


def _fold(text) -> str:
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and text != text):
            return ""
        text = str(text)
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub("", _DASHES.sub("-", text)).lower()


def normalise_street(street) -> str:
    """A street name without spaces, full-width characters, case or 省/市/区 prefix ('' if blank)."""
    text = _fold(street)
    while True:
        match = _ADMIN_PREFIX.match(text)
        if not match or len(text) - match.end() < 2:
            return text
        text = text[match.end() :]


def normalise_housenumber(number) -> str:
    """A house number without 号/弄/栋/幢 suffixes, prefixes, spaces or full-width digits.

    Examples
    --------
    >>> normalise_housenumber("１８号")
    '18'
    >>> normalise_housenumber("18弄3号")
    '18-3'
    >>> normalise_housenumber(18.0)
    '18'
    """
    if isinstance(number, float) and number == number and number.is_integer():
        number = int(number)
    text = _NUMBER_PREFIX.sub("", _fold(number))
    lane = _LANE_HOUSE.match(text)
    if lane:
        return f"{lane.group(1)}-{lane.group(2)}"
    previous = None
    while previous != text:
        previous, text = text, _SUFFIX.sub("", text)
    return re.sub(r"(号|弄|栋|幢)-", "-", text)


def address_key(street, number) -> str | None:
    """``"street|number"`` in normalised form, or None when either part is blank."""
    s, n = normalise_street(street), normalise_housenumber(number)
    return f"{s}|{n}" if s and n else None


_STREET_THEN_NUMBER = re.compile(r"^(.*?\D)(\d.*)$")


def split_address(address) -> tuple[str, str]:
    """A one-column address (``学院路18号``) as (street, house number); ('', '') if blank.

    The street is everything before the first digit; without a digit the
    whole text is the street and the number is ''.
    """
    text = unicodedata.normalize("NFKC", address) if isinstance(address, str) else ""
    text = text.strip()
    match = _STREET_THEN_NUMBER.match(text)
    if not match:
        return text, ""
    return match.group(1).strip(), match.group(2).strip()
