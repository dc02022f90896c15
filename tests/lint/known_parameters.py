"""Real violations of the Parameters/Arrays/enum/Security rules that Microsoft merged anyway.

Keyed by (connector folder, rule id, JSON pointer); the value says why the finding is right.
"""

from __future__ import annotations

KNOWN: dict[tuple[str, str, str], str] = {
    ("certified-connectors/Scrive eSign", "SecurityRequirementMustBeDefined", "/security/0/basic_auth"): (
        "securityDefinitions defines only 'oauth2-auth'; the 'basic_auth' requirement lists connection "
        "parameter names (Email, Password, API Host URL) as scopes of a scheme that does not exist."
    ),
    ("certified-connectors/emailDomainChecker", "SecurityRequirementMustBeDefined", "/security/0/API Key"): (
        "The scheme is defined as 'api_key'; the requirement names 'API Key' (the wizard's label)."
    ),
    ("independent-publisher-connectors/aviationstack", "SecurityRequirementMustBeDefined", "/security/0/API Key"): (
        "The scheme is defined as 'api_key'; the requirement names 'API Key' (the wizard's label)."
    ),
    (
        "independent-publisher-connectors/Perplexity AI",
        "ArrayDuplicateValue",
        "/paths/~1chat~1completions/post/parameters/0/schema/properties/model/enum/5",
    ): "The model enum lists 'mistral-7b-instruct' twice (index 0 and 5).",
}
