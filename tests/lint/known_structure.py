"""Structural errors on connectors Microsoft accepted anyway (see test_corpus_accuracy.py).

Most are certification requirements (contact, connector metadata, a title and a help text for
every input users see) that older certified connectors predate: Microsoft's validator checks a
connector's whole definition only when it changes, so these were never caught.
"""

from __future__ import annotations

_OLD_WITHOUT_METADATA = (
    "certified before info.contact and x-ms-connector-metadata were required; the validator "
    "reports both on any new submission"
)
_SUMMARY = (
    "a parameter users see without x-ms-summary (or description); certification runs report "
    "this as an error today (PRs #1003, #3407), older connectors predate the check"
)

# ElfsquadProductConfigurator: 43 inputs users see (mostly the {id} path parameters) without
# x-ms-summary, some also without description.
_ELFSQUAD_INPUTS = (
    "/paths/~1api~12~1categories~1subcategories~1{id}/get/parameters/0",
    "/paths/~1api~12~1categories~1{id}/delete/parameters/0",
    "/paths/~1api~12~1categories~1{id}/get/parameters/0",
    "/paths/~1api~12~1categories~1{id}/patch/parameters/1",
    "/paths/~1api~12~1crmaccounts~1{id}/delete/parameters/0",
    "/paths/~1api~12~1crmaccounts~1{id}/get/parameters/0",
    "/paths/~1api~12~1crmaccounts~1{id}/patch/parameters/1",
    "/paths/~1api~12~1crmcontacts~1{id}/delete/parameters/0",
    "/paths/~1api~12~1crmcontacts~1{id}/get/parameters/0",
    "/paths/~1api~12~1crmcontacts~1{id}/patch/parameters/1",
    "/paths/~1api~12~1featurehasfeatureproperties~1{id}/delete/parameters/0",
    "/paths/~1api~12~1featurehasfeatureproperties~1{id}/patch/parameters/1",
    "/paths/~1api~12~1featuremodels~1{id}/delete/parameters/0",
    "/paths/~1api~12~1featuremodels~1{id}/get/parameters/0",
    "/paths/~1api~12~1featuremodels~1{id}/patch/parameters/1",
    "/paths/~1api~12~1featureproperties~1{id}/delete/parameters/0",
    "/paths/~1api~12~1featureproperties~1{id}/get/parameters/0",
    "/paths/~1api~12~1featureproperties~1{id}/patch/parameters/1",
    "/paths/~1api~12~1features~1{id}/delete/parameters/0",
    "/paths/~1api~12~1features~1{id}/get/parameters/0",
    "/paths/~1api~12~1features~1{id}/patch/parameters/1",
    "/paths/~1api~12~1files/post/parameters/0",
    "/paths/~1api~12~1organizationsellsfeatures~1byfeatureid~1{id}/get/parameters/0",
    "/paths/~1api~12~1organizationsellsfeatures~1{id}/delete/parameters/0",
    "/paths/~1api~12~1organizationsellsfeatures~1{id}/get/parameters/0",
    "/paths/~1api~12~1organizationsellsfeatures~1{id}/patch/parameters/1",
    "/paths/~1api~12~1quotationproperties~1{id}/delete/parameters/0",
    "/paths/~1api~12~1quotationproperties~1{id}/get/parameters/0",
    "/paths/~1api~12~1quotationproperties~1{id}/patch/parameters/1",
    "/paths/~1api~12~1quotationpropertyfields~1{id}/delete/parameters/0",
    "/paths/~1api~12~1quotations~1{id}/delete/parameters/0",
    "/paths/~1api~12~1quotations~1{id}/get/parameters/0",
    "/paths/~1api~12~1quotations~1{id}/patch/parameters/1",
    "/paths/~1api~12~1quotations~1{id}~1addconfigurations/put/parameters/0",
    "/paths/~1api~12~1quotations~1{id}~1addfile/post/parameters/0",
    "/paths/~1api~12~1quotations~1{id}~1addfile/post/parameters/1",
    "/paths/~1api~12~1quotations~1{id}~1copy/get/parameters/0",
    "/paths/~1api~12~1quotations~1{id}~1pdf/get/parameters/0",
    "/paths/~1api~12~1quotations~1{id}~1revise/put/parameters/0",
    "/paths/~1api~12~1steps~1{id}/delete/parameters/0",
    "/paths/~1api~12~1steps~1{id}/get/parameters/0",
    "/paths/~1api~12~1steps~1{id}/patch/parameters/1",
    "/paths/~1api~12~1webhooks~1custom.{identifier}/post/parameters/1",
)

KNOWN: dict[tuple[str, str, str], str] = {
    **{
        ("certified-connectors/ElfsquadProductConfigurator", "RequiredPropertyMissing", pointer): _SUMMARY
        for pointer in _ELFSQUAD_INPUTS
    },
    **{
        (f"certified-connectors/{name}", "RequiredPropertyMissing", pointer): _OLD_WITHOUT_METADATA
        for name in ("ElfsquadProductConfigurator", "Huddle", "JotForm Enterprise")
        for pointer in ("", "/info")
    },
    ("certified-connectors/Pushcut", "RequiredPropertyMissing", ""): (
        "certified without x-ms-connector-metadata (Website, Privacy policy, Categories), which "
        "certification now requires"
    ),
    ("certified-connectors/Survey123", "RequiredPropertyMissing", "/paths/~1api~1survey~1query/get/parameters/1"): (
        "the visible isQueryAll query parameter has neither x-ms-summary nor description"
    ),
    **{
        ("independent-publisher-connectors/WeatherForecast", "RequiredPropertyMissing", pointer): (
            "the visible q and appid query parameters have neither x-ms-summary nor description"
        )
        for pointer in ("/paths/~1data~12.5~1weather/get/parameters/0", "/paths/~1data~12.5~1weather/get/parameters/1")
    },
    ("certified-connectors/JotForm Enterprise", "HostNameNotValid", "/host"): (
        "host is the template placeholder '{{replace_with_your_domain}}'; a policy sets the real "
        "host per connection, but braces are not valid in a host name"
    ),
    **{
        (
            "certified-connectors/Oneflow",
            "JsonTypeIncorrect",
            f"/definitions/Product_For_Create/properties/{p}/properties/{a}/x-ms-summary",
        ): ("x-ms-summary written as a number (1, 2) instead of a string")
        for p in ("price_1", "price_2")
        for a in ("base_amount", "discount_amount")
    },
    ("certified-connectors/Vantage 365 Barcodes", "UrlNotValid", "/x-ms-connector-metadata/0/propertyValue"): (
        "the Website metadata value 'Www.vantage365.co.uk' has no scheme, so it is not an absolute URL"
    ),
}
