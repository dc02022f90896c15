"""Real violations of the apiProperties / assets / consistency rules in connectors Microsoft
accepted (corpus, profile certified)."""

from __future__ import annotations

_ACS = "certified-connectors/Azure Communication Services SMS Events"

KNOWN: dict[tuple[str, str, str], str] = {
    (_ACS, "AadCertificateRequiresFirstParty", "/properties/connectionParameters/token/oAuthSettings"): (
        "Microsoft's own first-party connector: it uses aadcertificate without declaring "
        "properties.IsFirstParty, which the schema requires; its first-party status is known to the service."
    ),
    (
        _ACS,
        "AadCertificateRequiresFirstParty",
        "/properties/connectionParameterSets/values/0/parameters/token/oAuthSettings",
    ): "The same aadcertificate settings repeated in its first connection parameter set.",
    ("certified-connectors/DocuSign", "BrandColorNotAllowed", "/properties/iconBrandColor"): (
        "iconBrandColor #ffffff: certified long before the solution checker's brand-colour rule, grandfathered."
    ),
    ("certified-connectors/DocuSignDemo", "BrandColorNotAllowed", "/properties/iconBrandColor"): (
        "iconBrandColor #ffffff, a copy of the DocuSign connector's properties."
    ),
    ("certified-connectors/Zellis", "BrandColorNotAllowed", "/properties/iconBrandColor"): (
        "iconBrandColor is the default #007ee5, which the PR checklist forbids; the reviewers let it through."
    ),
    (
        "certified-connectors/Zellis",
        "AadResourceUriMissing",
        "/properties/connectionParameters/token/oAuthSettings/customParameters",
    ): (
        "aad sign-in with a '{Scope}' placeholder and no customParameters.resourceUri (the schema requires it); "
        "the values are evidently filled in by the publisher at deployment."
    ),
    (
        "independent-publisher-connectors/GlobalGiving Project",
        "ConnectionParameterNameNotValid",
        "/properties/connectionParameters/API Key",
    ): "The parameter is named 'API Key' (with a space), outside the schema's [0-9a-zA-Z_]+ pattern.",
    ("independent-publisher-connectors/Workable", "ReadmeMissing", ""): (
        "The folder has no readme.md although independent publisher submissions require one."
    ),
}
