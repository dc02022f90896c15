"""Certification package rules (``connectorkit validate --package FILE.zip``).

The checks run in :mod:`connectorkit.publish.packagecheck`, which reads the package zip (this package does not
read zips, and ``publish`` does not import ``lint``); it makes the findings with the ids, severities and message
templates registered here, so ``connectorkit rules``, ``--select``/``--ignore``, SARIF rule metadata and
``docs/rules.md`` cover them like every other rule. A test keeps the two lists in step.

The first group reproduces Microsoft's ``scripts/ConnectorPackageValidator.ps1`` (catalogue ids PKG-STRUCTURE and
PKG-SOLUTION in the reference notes) with the script's own sentences; the second is connectorkit's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectorkit.definition.findings import Finding, Severity
from connectorkit.lint.registry import Category, Hit, On, hit, rule

SCRIPT = (
    "https://github.com/microsoft/PowerPlatformConnectors/blob/8bff86eac6d04e939faee0de15298e911b118c21/"
    "scripts/ConnectorPackageValidator.ps1"
)
INTRO = "https://learn.microsoft.com/en-us/connectors/custom-connectors/submit-for-certification"

_E = Severity.ERROR
_W = Severity.WARNING

# id, severity, message template, why (the documentation), fix, source
_RULES: tuple[tuple[str, Severity, str, str, str, str | None], ...] = (
    (
        "PackageRootHasFolder",
        _E,
        "The provided zip file should not contain any folder inside '{0}'.",
        "Microsoft's package validator (PKG-STRUCTURE) reads the certification package's root as exactly two "
        "files, intro.md and the package zip; a folder at the root means the package was zipped one level too "
        "high or carries stray content.",
        "Zip intro.md and the package zip themselves, not the folder holding them.",
        SCRIPT,
    ),
    (
        "PackageRootFilesMissing",
        _E,
        "The provided zip file should contain both intro.md and package zip file in '{0}'.",
        "The certification package's root must hold exactly one ``*.md`` (intro.md, the connector's "
        "documentation for ISV Studio) and exactly one ``*.zip`` (the Package Deployer package); the names are "
        "not checked, only the extensions (PKG-STRUCTURE).",
        "Put intro.md and the package zip (and nothing else) at the root of the certification zip.",
        SCRIPT,
    ),
    (
        "PackageAssetsFolderMissing",
        _E,
        "The package zip file should contain a folder ideally named 'PkgAssets' inside '{0}'.",
        "The Package Deployer package carries its solutions in one asset folder (PkgAssets); the validator "
        "looks for exactly one folder at the package zip's root (PKG-STRUCTURE).",
        "Add a PkgAssets folder holding the solution zips to the package zip, and no other folder.",
        SCRIPT,
    ),
    (
        "PackageAssetsHasFolder",
        _E,
        "The package folder '{0}' should not contain any folder inside '{1}'.",
        "The solution zips sit directly in PkgAssets; the validator refuses sub-folders there (PKG-STRUCTURE).",
        "Move the solution zips to the PkgAssets folder itself and remove its sub-folders.",
        SCRIPT,
    ),
    (
        "PackageSolutionCount",
        _E,
        "The package folder '{0}' should contain only connector and flow solution zip files in '{1}'.",
        "PkgAssets must hold exactly two solution zips (the connector solution and a flow solution that "
        "exercises it), three for an AI plugin connector (plus the plugin solution); other .xml/.json files "
        "there are environment-specific and ignored (PKG-STRUCTURE).",
        "Keep exactly the connector and flow solution zips (and the AI plugin solution zip for a plugin "
        "connector) in PkgAssets.",
        SCRIPT,
    ),
    (
        "SolutionFilesMissing",
        _E,
        "The solution zip file '{0}' in '{1}' should contain three files namely '[Content_Types].xml', "
        "'customizations.xml', 'solution.xml'.",
        "Every exported Dataverse solution has these three files at its root, and import needs all of them; "
        "their absence means the zip is not an exported solution (PKG-SOLUTION).",
        "Export the solution again (or build it with `connectorkit package solution`) instead of editing the zip.",
        SCRIPT,
    ),
    (
        "SolutionCustomizationsUnreadable",
        _E,
        "Validation failed: Internal issue while working with current folder as '{0}' - error occurred: {1}",
        "The validator reads customizations.xml to classify each solution; when it cannot be parsed the script "
        "stops with this internal-issue line instead of a verdict.",
        "Fix the XML at the position shown, or export the solution again.",
        SCRIPT,
    ),
    (
        "SolutionConnectorFolderMissing",
        _E,
        "The solution zip file '{0}' in '{1}' should contain one folder namely 'Connector.",
        "A solution whose customizations.xml has a ``Connector`` node carries the connector's files in a "
        "``Connector`` folder; without it the import has no definition to read (PKG-SOLUTION).",
        "Export the solution again: the Connector folder is written by the export.",
        SCRIPT,
    ),
    (
        "SolutionWorkflowsFoldersMissing",
        _E,
        "The solution zip file '{0}' in '{1}' should contain '{2}'.",
        "A solution whose customizations.xml has a ``Workflows`` node (the flow solution) must carry both the "
        "``Connector`` and the ``Workflows`` folders (PKG-SOLUTION).",
        "Export the flow solution again with the connector and the flow in it.",
        SCRIPT,
    ),
    (
        "SolutionPluginFoldersMissing",
        _E,
        "The solution zip file '{0}' in '{1}' should contain '{2}",
        "For a plugin connector, a solution with an ``aicopilot_aiplugin`` node must carry the ``Connector``, "
        "``aiplugins`` and ``aipluginoperations`` folders (PKG-SOLUTION).",
        "Export the AI plugin solution again with the connector, the plugin and its operations in it.",
        SCRIPT,
    ),
    (
        "PackageConnectorSolutionMissing",
        _E,
        "Connector solution in '{0}' is invalid. Connector solution should only contain 'Connector' folder.",
        "Certification needs one solution holding only the connector (no flows, no plugin), so that it can be "
        "imported on its own (PKG-SOLUTION).",
        "Add a solution that contains the custom connector and nothing else.",
        SCRIPT,
    ),
    (
        "PackageFlowSolutionMissing",
        _E,
        "Flow solution in '{0}' is invalid. Flow solution should contain both 'Connector' and 'Workflows' folders.",
        "Certification needs a second solution with a flow that uses the connector, and the connector with it "
        "(PKG-SOLUTION).",
        "Add a solution holding a flow that calls the connector, together with the connector.",
        SCRIPT,
    ),
    (
        "PackagePluginSolutionMissing",
        _E,
        "Plugin solution in '{0}' is invalid. Plugin solution should contain 'Connector', 'aiplugins' and "
        "'aipluginoperations' folders.",
        "A plugin connector's package needs a third solution with the connector and its AI plugin (PKG-SOLUTION).",
        "Add a solution holding the connector, its AI plugin and the plugin operations.",
        SCRIPT,
    ),
    (
        "PackageXmlNotWellFormed",
        _E,
        "{0} is not well-formed XML: {1}",
        "Dataverse rejects a solution whose XML files do not parse, and Microsoft's validator only parses "
        "customizations.xml; connectorkit checks every XML file of the package (and refuses DTDs, which "
        "exported files never have and which allow entity-expansion attacks).",
        "Fix the XML at the position shown, or rebuild the file.",
        None,
    ),
    (
        "SolutionConnectorFileMissing",
        _E,
        "customizations.xml names '{0}' as the <{1}> of connector '{2}', but the solution zip has no such file.",
        "Each ``<Connector>`` entry in customizations.xml points at its files under ``Connector/``; a reference "
        "to a file that is not there fails the import (and certification reports 'Solution not present at "
        "correct path or is invalid solution').",
        "Rebuild the solution so the Connector/ files and customizations.xml agree.",
        None,
    ),
    (
        "SolutionConnectorFileUnlisted",
        _W,
        "'{0}' is in the solution zip, but no <Connector> entry in customizations.xml names it.",
        "A file under ``Connector/`` that customizations.xml does not name is never imported: it is usually a "
        "leftover of a hand edit, and the connector imported is not the one the file suggests.",
        "Remove the file, or name it in the <Connector> entry it belongs to.",
        None,
    ),
    (
        "SolutionRootComponentMismatch",
        _W,
        "Connector '{0}' is in customizations.xml but not a root component (type 372) in solution.xml.",
        "An exported solution lists every connector it carries as a root component of type 372 in solution.xml; "
        "a connector only in customizations.xml suggests a hand-assembled or truncated solution.",
        "Export the solution again, or add the RootComponent (type 372, schemaName = the connector's name).",
        None,
    ),
    (
        "SolutionManaged",
        _W,
        "The solution '{0}' is managed (<Managed>1</Managed>); certification takes unmanaged solutions.",
        "Third-party certification checkers and submitters report the certification team sending managed "
        "exports back (reviewers import the solutions to review and republish them); Microsoft's script does "
        "not check it, so this is a warning.",
        "Export the solution as unmanaged (or build it without --managed).",
        None,
    ),
    (
        "SolutionConnectorUnreadable",
        _E,
        "The connector in the solution zip file '{0}' cannot be read: {1}",
        "connectorkit reads the connector solution's connector back (definition, connection parameters, "
        "policies, icon, code) to validate it; a connector that cannot be read cannot be imported either.",
        "Rebuild the connector solution from a connector folder that validates.",
        None,
    ),
    (
        "PackageIntroDescriptionMissing",
        _E,
        "intro.md does not open with a description paragraph before its first section.",
        "intro.md becomes the connector's documentation page; Microsoft's template opens with a paragraph "
        "describing the service (distinct from the connector description) before the first section.",
        "Start intro.md with one paragraph about the service and what the connector does with it.",
        INTRO,
    ),
    (
        "PackageIntroSectionMissing",
        _E,
        "intro.md has no '## {0}' section.",
        "Microsoft's intro.md template requires the sections Prerequisites, How to get credentials (when the "
        "connector signs in), Get started with your connector, and Known issues and limitations, as ``##`` "
        "headings.",
        "Add the section as a '## ' heading with the template's title.",
        INTRO,
    ),
)


def _register(rule_id: str, severity: Severity, message: str, why: str, fix: str, source: str | None) -> None:
    def check(ctx: Any, finding: Finding) -> Iterator[Hit]:
        yield hit("", file=finding.file or "", message=finding.message)

    check.__doc__ = why
    rule(
        rule_id,
        category=Category.PACKAGE,
        severity=severity,
        message=message,
        on=On.CERTIFICATION_PACKAGE,
        fix=fix,
        source=source,
        microsoft=False,
    )(check)


for _entry in _RULES:
    _register(*_entry)
