"""Card details as the payment endpoints receive them: checked before any processor sees them.

Nothing here logs, stores or repeats a card number or security code: error messages are fixed
texts, and ``CardDetails`` hides both from ``repr``.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from apps.core.errors import InvalidInput

# ISO 3166-1 alpha-2: the officially assigned codes.
ISO_COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a table is easier to check against the standard
)

# How far ahead an expiry date may lie.
MAX_YEARS_AHEAD = 20

_SEPARATORS = re.compile(r"[ \-]")
_DIGITS = re.compile(r"^[0-9]{12,19}$")
_STATE = re.compile(r"^[A-Za-z]{2}$")

# (brand, prefixes as (low, high) ranges over the first digits)
_BRANDS = [
    ("amex", [(34, 34), (37, 37)]),
    ("visa", [(4, 4)]),
    ("mastercard", [(51, 55), (2221, 2720)]),
    ("discover", [(6011, 6011), (644, 649), (65, 65)]),
    ("jcb", [(3528, 3589)]),
    ("diners", [(300, 305), (36, 36), (38, 39)]),
    ("unionpay", [(62, 62)]),
    ("maestro", [(50, 50), (56, 58), (6, 6)]),
]

BRAND_NAMES = {
    "amex": "American Express",
    "visa": "Visa",
    "mastercard": "Mastercard",
    "discover": "Discover",
    "jcb": "JCB",
    "diners": "Diners Club",
    "unionpay": "UnionPay",
    "maestro": "Maestro",
    "unknown": "Card",
}


@dataclass(frozen=True)
class BillingAddress:
    street: str = ""
    city: str = ""
    state_or_province: str = ""
    postal_code: str = ""
    country: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class CardDetails:
    """A checked card. ``number`` and ``security_code`` are for the processor only."""

    number: str = field(repr=False)
    security_code: str = field(repr=False)
    holder_name: str
    expiration_month: int
    expiration_year: int
    brand: str
    address: BillingAddress = field(default_factory=BillingAddress)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def label(self) -> str:
        return f"{BRAND_NAMES.get(self.brand, 'Card')} ending in {self.last4}"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    for brand, ranges in _BRANDS:
        for low, high in ranges:
            width = len(str(low))
            prefix = int(digits[:width])
            if low <= prefix <= high:
                return brand
    return "unknown"


def _fail(name: str, message: str):
    raise InvalidInput(message, errors={(name,): [message]})


def check_card(
    *, number: str, security_code: str, holder_name: str, expiration_month: int, expiration_year: int, today: date
) -> CardDetails:
    """The card, or InvalidInput naming the first field that is wrong (never echoing it)."""
    digits = _SEPARATORS.sub("", number or "")
    if not _DIGITS.match(digits) or not luhn_valid(digits):
        _fail("cardNumber", "The card number is not valid.")
    brand = brand_of(digits)
    holder_name = (holder_name or "").strip()
    if not holder_name:
        _fail("cardHolderName", "Give the name of the card holder.")
    if not 1 <= expiration_month <= 12:
        _fail("expirationMonth", "The expiration month must be a number from 1 to 12.")
    year = expiration_year + 2000 if 0 <= expiration_year < 100 else expiration_year
    if (year, expiration_month) < (today.year, today.month):
        _fail("expirationYear", "The card has expired.")
    if year > today.year + MAX_YEARS_AHEAD:
        _fail("expirationYear", "The expiration year is not valid.")
    code = (security_code or "").strip()
    expected = 4 if brand == "amex" else 3
    if not (code.isascii() and code.isdigit() and len(code) == expected):
        _fail("securityCode", f"The security code must be {expected} digits.")
    return CardDetails(
        number=digits,
        security_code=code,
        holder_name=holder_name,
        expiration_month=expiration_month,
        expiration_year=year,
        brand=brand,
    )


def check_address(
    *,
    street: str = "",
    city: str = "",
    state_or_province: str = "",
    postal_code: str = "",
    country: str = "",
    phone_number: str = "",
) -> BillingAddress:
    """The billing address; the state must be a 2-letter code and the country ISO 3166-1 alpha-2."""
    state = (state_or_province or "").strip()
    if state and not _STATE.match(state):
        _fail("stateOrProvince", "The state or province must be a 2-letter code, like CA.")
    country = (country or "").strip()
    if country and country.upper() not in ISO_COUNTRIES:
        _fail("country", "The country must be an ISO 3166-1 alpha-2 code, like US.")
    return BillingAddress(
        street=(street or "").strip(),
        city=(city or "").strip(),
        state_or_province=state.upper(),
        postal_code=(postal_code or "").strip(),
        country=country.upper(),
        phone_number=(phone_number or "").strip(),
    )
