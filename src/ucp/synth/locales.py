"""Per-locale conventions: country, phone numbering, email domains, currency and address words."""

from __future__ import annotations

from dataclasses import dataclass

#: area codes known to be in service (the pool keeps only prefixes phonenumbers accepts)
_US_AREAS = (
    "201", "202", "203", "205", "206", "207", "208", "210", "212", "213", "214", "215", "216",
    "217", "218", "219", "224", "225", "228", "229", "231", "234", "239", "240", "248", "251",
    "252", "253", "254", "256", "260", "262", "267", "269", "270", "276", "281", "301", "302",
    "303", "304", "305", "307", "308", "309", "310", "312", "313", "314", "315", "316", "317",
    "318", "319", "320", "321", "323", "330", "334", "336", "337", "339", "347", "351", "352",
    "360", "361", "385", "386", "401", "402", "404", "405", "406", "407", "408", "409", "410",
    "412", "413", "414", "415", "417", "419", "423", "425", "430", "432", "434", "435", "440",
    "443", "469", "478", "479", "480", "484", "501", "502", "503", "504", "505", "507", "508",
    "509", "510", "512", "513", "515", "516", "517", "518", "520", "530", "540", "541", "551",
    "559", "561", "562", "563", "567", "570", "571", "573", "574", "580", "585", "586", "601",
    "602", "603", "605", "606", "607", "608", "609", "610", "612", "614", "615", "616", "617",
    "618", "619", "620", "623", "626", "630", "631", "636", "641", "646", "650", "651", "660",
    "661", "662", "678", "682", "701", "702", "703", "704", "706", "707", "708", "712", "713",
    "714", "715", "716", "717", "718", "719", "720", "724", "727", "731", "732", "734", "740",
    "754", "757", "760", "763", "765", "770", "772", "773", "774", "775", "781", "785", "786",
    "801", "802", "803", "804", "805", "806", "808", "810", "812", "813", "814", "815", "816",
    "817", "818", "828", "830", "831", "832", "843", "845", "847", "848", "850", "856", "857",
    "858", "859", "860", "862", "863", "864", "865", "870", "901", "903", "904", "906", "907",
    "908", "909", "910", "912", "913", "914", "915", "916", "917", "918", "919", "920", "925",
    "928", "931", "936", "937", "940", "941", "949", "951", "952", "954", "956", "970", "971",
    "972", "973", "978", "979", "980", "985", "989",
)


@dataclass(frozen=True, slots=True)
class PhonePlan:
    """Candidate (area code, subscriber length) pairs for one number type of one country."""

    areas: tuple[str, ...]
    subscriber_lengths: tuple[int, ...]
    lead_digits: str = "23456789"
    #: allocation is too fine-grained for prefixes alone (UK): validate every number drawn
    check_each: bool = False


@dataclass(frozen=True, slots=True)
class LocaleSpec:
    """What a person from one locale looks like on paper."""

    locale: str
    country: str  # ISO 3166 alpha-2
    country_names: tuple[str, ...]  # spellings seen in free-text country fields, canonical first
    calling_code: str
    mobile: PhonePlan
    landline: PhonePlan
    email_domains: tuple[tuple[str, float], ...]
    currency: str
    language_tag: str
    middle_name_rate: float
    #: long street word -> abbreviations seen in the wild
    street_words: tuple[tuple[str, tuple[str, ...]], ...]
    unit_words: tuple[str, ...]
    house_number_first: bool


LOCALES: dict[str, LocaleSpec] = {
    "en_US": LocaleSpec(
        locale="en_US", country="US",
        country_names=("United States", "USA", "US", "United States of America", "U.S."),
        calling_code="1",
        mobile=PhonePlan(tuple(_US_AREAS), (7,)),
        landline=PhonePlan(tuple(_US_AREAS), (7,)),
        email_domains=(("gmail.com", 0.38), ("yahoo.com", 0.18), ("outlook.com", 0.12),
                       ("hotmail.com", 0.10), ("aol.com", 0.05), ("icloud.com", 0.09),
                       ("comcast.net", 0.08)),
        currency="USD", language_tag="en-US", middle_name_rate=0.4,
        street_words=(("Street", ("St", "St.")), ("Avenue", ("Ave", "Ave.")),
                      ("Road", ("Rd", "Rd.")), ("Drive", ("Dr", "Dr.")),
                      ("Boulevard", ("Blvd",)), ("Lane", ("Ln",)), ("Court", ("Ct",)),
                      ("Place", ("Pl",)), ("Parkway", ("Pkwy",)), ("Square", ("Sq",)),
                      ("Terrace", ("Ter",)), ("Highway", ("Hwy",))),
        unit_words=("Apt", "Apt.", "Apartment", "Suite", "#", "Unit"),
        house_number_first=True,
    ),
    "en_GB": LocaleSpec(
        locale="en_GB", country="GB",
        country_names=("United Kingdom", "UK", "GB", "Great Britain", "England"),
        calling_code="44",
        mobile=PhonePlan(tuple(f"7{d}{e}" for d in "456789" for e in "0123456789"), (7,),
                         check_each=True),
        landline=PhonePlan(("20", "121", "131", "141", "151", "161", "113", "114", "115", "116",
                            "117", "118", "1223", "1865", "1273"), (8, 7, 6), check_each=True),
        email_domains=(("gmail.com", 0.36), ("hotmail.co.uk", 0.16), ("yahoo.co.uk", 0.12),
                       ("outlook.com", 0.12), ("btinternet.com", 0.10), ("icloud.com", 0.08),
                       ("sky.com", 0.06)),
        currency="GBP", language_tag="en-GB", middle_name_rate=0.3,
        street_words=(("Street", ("St", "St.")), ("Road", ("Rd", "Rd.")),
                      ("Avenue", ("Ave",)), ("Lane", ("Ln",)), ("Close", ("Cl",)),
                      ("Crescent", ("Cres",)), ("Drive", ("Dr",)), ("Gardens", ("Gdns",)),
                      ("Place", ("Pl",)), ("Square", ("Sq",)), ("Terrace", ("Terr",))),
        unit_words=("Flat", "Flat", "Apartment", "#"),
        house_number_first=True,
    ),
    "de_DE": LocaleSpec(
        locale="de_DE", country="DE",
        country_names=("Deutschland", "Germany", "DE", "BRD", "Allemagne"),
        calling_code="49",
        mobile=PhonePlan(("151", "152", "157", "159", "160", "162", "163", "170", "171", "172",
                          "173", "174", "175", "176", "177", "178", "179"), (8, 7)),
        landline=PhonePlan(("30", "40", "89", "69", "221", "211", "711", "511", "341", "351",
                            "421", "231", "201", "911"), (8, 7)),
        email_domains=(("gmail.com", 0.25), ("web.de", 0.22), ("gmx.de", 0.20),
                       ("t-online.de", 0.12), ("outlook.de", 0.08), ("yahoo.de", 0.06),
                       ("posteo.de", 0.07)),
        currency="EUR", language_tag="de-DE", middle_name_rate=0.15,
        street_words=(("straße", ("str.", "strasse", "Str.")), ("Straße", ("Str.", "Strasse")),
                      ("Platz", ("Pl.",)), ("Allee", ("Al.",)), ("Weg", ("Wg.",))),
        unit_words=("Whg.", "Wohnung", "App."),
        house_number_first=False,
    ),
    "fr_FR": LocaleSpec(
        locale="fr_FR", country="FR",
        country_names=("France", "FR", "République française", "Frankreich"),
        calling_code="33",
        mobile=PhonePlan(tuple(f"6{d}" for d in "0123456789") + ("73", "75", "76", "77", "78"),
                         (7,)),
        landline=PhonePlan(tuple(f"{a}{d}" for a in "12345" for d in "0123456789"), (7,)),
        email_domains=(("gmail.com", 0.32), ("orange.fr", 0.16), ("hotmail.fr", 0.12),
                       ("free.fr", 0.12), ("laposte.net", 0.10), ("yahoo.fr", 0.08),
                       ("sfr.fr", 0.10)),
        currency="EUR", language_tag="fr-FR", middle_name_rate=0.2,
        street_words=(("rue", ("r.", "Rue")), ("avenue", ("av.", "Av.", "ave")),
                      ("boulevard", ("bd", "Bd", "boul.")), ("place", ("pl.",)),
                      ("chemin", ("ch.", "chem.")), ("impasse", ("imp.",)),
                      ("allée", ("all.", "allee"))),
        unit_words=("Appt", "Apt", "Bât.", "Appartement"),
        house_number_first=True,
    ),
}

#: locales used when none are given
DEFAULT_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "de_DE", "fr_FR")
#: share of the population from each default locale (a retailer with a US and European base)
DEFAULT_LOCALE_WEIGHTS: dict[str, float] = {"en_US": 0.45, "en_GB": 0.2, "de_DE": 0.2,
                                            "fr_FR": 0.15}

#: postcode formats, anchored, for validation of clean values
POSTCODE_PATTERNS: dict[str, str] = {
    "US": r"^\d{5}$",
    "GB": r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$",
    "DE": r"^(0[1-9]|[1-9]\d)\d{3}$",
    "FR": r"^(0[1-9]|[1-8]\d|9[0-5])\d{3}$",
}
