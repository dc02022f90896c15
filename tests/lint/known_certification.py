"""Certification findings on merged connectors that are real violations Microsoft let through.

Keys are (corpus folder, rule id, JSON pointer); values say why the finding stands.
"""

from __future__ import annotations

KNOWN: dict[tuple[str, str, str], str] = {
    ("certified-connectors/ElfsquadProductConfigurator", "ValueContainsRestrictedWords", "/info/description"): (
        "The description says 'Elfsquad uses Microsoft Power Automate to sync with other applications'; "
        "'power automate' is on the validator's list. The connector also has no x-ms-connector-metadata, "
        "so it predates the certification checks."
    ),
    ("certified-connectors/Vantage 365 Barcodes", "ValueContainsRestrictedWords", "/info/description"): (
        "The description names 'Power Apps' and 'Logic Apps' ('as part of your Power Apps, Automations or "
        "Logic Apps'), both on the validator's list."
    ),
    ("certified-connectors/Vantage 365 Barcodes", "ConnectorMetadataPropertiesMissing", "/x-ms-connector-metadata"): (
        "x-ms-connector-metadata has Website and Privacy policy entries but no Categories entry."
    ),
    ("certified-connectors/Office365GroupsMail", "ConnectorMetadataPropertiesMissing", "/x-ms-connector-metadata"): (
        "A Microsoft-published connector whose metadata has Website and Categories but no Privacy policy entry."
    ),
    ("independent-publisher-connectors/Yelp", "ConnectorMetadataPropertiesMissing", "/x-ms-connector-metadata"): (
        "x-ms-connector-metadata has Website and Privacy policy entries but no Categories entry."
    ),
    (
        "independent-publisher-connectors/Toggl Plan",
        "RequiredValueEmpty",
        "/paths/~1api~1v5~1{workspace_id}~1dummy_users~1{member_id}/put/parameters/2/x-ms-summary",
    ): (
        'The body parameter of UpdateMemberNotLinkedWithExistingUser has "x-ms-summary": "". The designer shows the body schema\'s '
        "properties rather than the body parameter's label, so the blank label went unnoticed."
    ),
}
