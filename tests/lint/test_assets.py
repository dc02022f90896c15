"""Edge cases of the icon, readme, intro and script rules."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw
from tests.lint.harness import Files, _base, files_of, package_of
from tests.lint.seeds_assets import SCRIPT, png

from connectorkit.definition.findings import Finding
from connectorkit.lint.engine import lint_package
from connectorkit.lint.registry import REGISTRY, Profile
from connectorkit.lint.rules.assets import _analyse, _headings, code_of


def run(rule_id: str, mutate: Callable[[Files], None], profile: Profile = Profile.CUSTOM) -> list[Finding]:
    files = files_of("example")
    mutate(files)
    rule = REGISTRY.get(rule_id)
    assert rule is not None
    return lint_package(package_of(files, _base("example")), [rule], profile)


def with_script(text: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.script = text

    return mutate


def with_icon(data: bytes) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.icon = data

    return mutate


# --------------------------------------------------------------------------- icon


def test_example_icon_is_certification_clean():
    """The icon `connectorkit new` makes passes every certified icon rule."""
    files = files_of("example")
    rules = [r for r in REGISTRY if r.category.value == "icon" and r.runs_in(Profile.CERTIFIED)]
    assert lint_package(package_of(files, _base("example")), rules, Profile.CERTIFIED) == []


def test_logo_extent_is_measured_against_the_background():
    info = _analyse(png(logo=(35, 35, 194, 194)))  # 160 pixels: the guidance's 160 on 230
    assert info.background == (221, 221, 221)
    assert round(info.logo_width, 3) == round(160 / 230, 3) and info.uniform and not info.transparent


def test_non_square_icon():
    [finding] = run("IconSizeNotValid", with_icon(png((230, 200), background=(218, 59, 1))), Profile.CERTIFIED)
    assert "230x200" in finding.message


def test_icon_size_limits_are_inclusive():
    small = png((100, 100), background=(218, 59, 1), logo=(30, 30, 60, 60))
    assert run("IconSizeNotValid", with_icon(small), Profile.CERTIFIED) == []


def test_white_and_striped_backgrounds():
    [white] = run("IconBackgroundNotValid", with_icon(png(background=(254, 254, 254))), Profile.CERTIFIED)
    assert "white" in white.message
    image = Image.new("RGB", (230, 230), (218, 59, 1))
    ImageDraw.Draw(image).rectangle((0, 0, 229, 114), fill=(20, 90, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    [striped] = run("IconBackgroundNotValid", with_icon(out.getvalue()), Profile.CERTIFIED)
    assert "uniform" in striped.message


def test_brand_colour_tolerance():
    """A background a little off the brand colour (as certified RecordedFutureV2's) passes."""
    near = png(background=(240, 75, 20))  # brand is #da3b01
    assert run("IconBrandColorMismatch", with_icon(near), Profile.CERTIFIED) == []


# --------------------------------------------------------------------------- readme


def test_headings_ignore_code_and_read_bold_lines():
    text = "# Title\n```\n## Not a heading\n```\n**Prerequisites**\n## Known *Issues*\n"
    assert _headings(text) == ["title", "prerequisites", "known issues"]


def test_readme_section_synonyms_and_publisher_line():
    readme = (
        "# Petstore\n\nPublisher: Petstore Inc.\n\n## Pre-requisites\n\nAn account.\n\n## Supported Actions\n\n"
        "### List pets\n\n## How to get credentials\n\nAsk support.\n\n## Known Limitations\n\nNone.\n"
    )

    def mutate(f: Files) -> None:
        f.readme = readme

    assert run("ReadmeSectionMissing", mutate, Profile.INDEPENDENT_PUBLISHER) == []
    [finding] = run("ReadmeSectionMissing", mutate, Profile.CERTIFIED)
    assert finding.message == "The readme has no 'Deployment Instructions' section."


def test_credentials_section_only_when_the_connector_signs_in():
    def mutate(f: Files) -> None:
        f.readme = "# Petstore\n## Publisher: Me\n## Prerequisites\n## Supported Operations\n## Known issues\n"
        f.api_properties["properties"]["connectionParameters"] = {}
        del f.definition["securityDefinitions"]
        del f.definition["security"]

    assert run("ReadmeSectionMissing", mutate, Profile.INDEPENDENT_PUBLISHER) == []


def test_intro_counts_as_readme_for_verified_publishers_only():
    def mutate(f: Files) -> None:
        f.readme = None
        f.intro = "Pets.\n"

    assert run("ReadmeMissing", mutate, Profile.CERTIFIED) == []
    assert len(run("ReadmeMissing", mutate, Profile.INDEPENDENT_PUBLISHER)) == 1


# --------------------------------------------------------------------------- script


def test_code_of_blanks_comments_strings_and_keeps_offsets():
    text = 'var a = "x // y"; // using Bad;\nvar b = @"say ""hi"""; /* class Script : ScriptBase */ char c = \'"\';\n'
    code = code_of(text)
    assert len(code) == len(text) and code.count("\n") == 2
    assert "using" not in code and "Script" not in code and "hi" not in code
    assert code.startswith('var a = "') and "char c = ' '" in code


def test_valid_script_is_clean():
    for rule_id in ("ScriptClassNotValid", "ScriptNamespaceNotAllowed", "ScriptTooLarge"):
        assert run(rule_id, with_script(SCRIPT)) == [], rule_id


def test_execute_async_in_a_comment_does_not_count():
    text = "public class Script : ScriptBase\n{\n    // public override Task<HttpResponseMessage> ExecuteAsync()\n}\n"
    [finding] = run("ScriptClassNotValid", with_script(text))
    assert finding.line == 1 and "no ExecuteAsync override" in finding.message


def test_script_class_with_the_wrong_base():
    [finding] = run("ScriptClassNotValid", with_script(SCRIPT.replace(": ScriptBase", ": Handler")))
    assert finding.line == 7 and "does not derive from ScriptBase" in finding.message


def test_namespace_position_and_exceptions():
    text = "using System.Data;\nusing static System.Math;\nusing Json = Newtonsoft.Json.JsonConvert;\n" + SCRIPT
    [finding] = run("ScriptNamespaceNotAllowed", with_script(text))
    assert (finding.line, finding.column) == (1, 7)
    assert finding.message == "script.csx uses the namespace 'System.Data', which custom code does not support."
