"""AppSource packages: layout, input.xml, the 32x32 logo, license terms, the self-check, CLI and bad input."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.publish.appsource import (
    SUPPORTED_COUNTRIES,
    AppSourceOptions,
    build_appsource,
    check_appsource,
    check_countries,
    html_problems,
    license_from_text,
    release_date,
)
from connectorkit.publish.solution import build_solution, read_solution_info
from connectorkit.publish.zips import open_zip, zip_bytes

from conftest import CORPUS, Run, needs_corpus

LINK_MOBILITY = CORPUS / "certified-connectors" / "LINKMobility"
TERMS = b"<!DOCTYPE html>\n<html><body><h1>Terms</h1><p>Use it well.<ul><li>one<li>two</ul></body></html>\n"
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _package(icon: bytes | None = None, color: str | None = "#0F6CBD", website: bool = True) -> ConnectorPackage:
    definition: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "Contoso Orders", "description": "Manage Contoso orders.", "version": "1.0"},
        "host": "api.contoso.com",
        "paths": {"/orders": {"get": {"operationId": "ListOrders", "responses": {"200": {"description": "ok"}}}}},
    }
    if website:
        definition["x-ms-connector-metadata"] = [{"propertyName": "Website", "propertyValue": "https://contoso.com"}]
    props: dict[str, Any] = {"connectionParameters": {"api_key": {"type": "securestring"}}}
    if color:
        props["iconBrandColor"] = color
    return ConnectorPackage(definition=definition, api_properties={"properties": props}, icon=icon)


def _options(**changes: Any) -> AppSourceOptions:
    values: dict[str, Any] = {
        "provider": "Contoso & Sons",
        "license_html": TERMS,
        "start_date": date(2025, 1, 15),
        "end_date": date(2035, 1, 15),
        "learn_more_link": "https://contoso.com",
    } | changes
    return AppSourceOptions(**values)


def _read(data: bytes) -> dict[str, bytes]:
    with open_zip(data, source="t.zip") as archive:
        return {name: archive.read(name) for name in archive.names()}


def _rezip(files: dict[str, bytes]) -> bytes:
    return zip_bytes(files.items())


def _logo(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(_read(data)["logo32x32.png"]))
    image.load()
    return image


# layout


def test_layout_and_documents_follow_the_appsource_page() -> None:
    built = build_appsource(_package(), _options(countries=("US", "CA"), lcid=1031))
    files = _read(built.data)
    with open_zip(built.data, source="t.zip") as archive:
        assert archive.names()[0] == "[Content_Types].xml"
        assert archive.folders() == set()
    assert sorted(files) == sorted(
        ["[Content_Types].xml", "input.xml", "package.zip", "logo32x32.png", "TermsOfUse.html"]
    )
    types = ET.fromstring(files["[Content_Types].xml"])
    assert types.tag == f"{CT_NS}Types"
    assert [d.get("Extension") for d in types] == ["xml", "xaml", "dll", "zip", "jpg", "gif", "png", "htm", "html",
                                                   "db", "css", "json", "msapp"]  # fmt: skip
    root = ET.fromstring(files["input.xml"])
    assert root.tag == "PvsPackageData"
    assert [child.tag for child in root] == ["ProviderName", "PackageFile", "SolutionAnchorName", "StartDate",
                                             "EndDate", "SupportedCountries", "LearnMoreLink", "Locales"]  # fmt: skip
    assert root.findtext("ProviderName") == "Contoso & Sons"
    assert b"Contoso &amp; Sons" in files["input.xml"]
    assert root.findtext("PackageFile") == "package.zip"
    assert root.findtext("SolutionAnchorName") == "ContosoOrders_1_0_0_0_managed.zip"
    assert (root.findtext("StartDate"), root.findtext("EndDate")) == ("01/15/2025", "01/15/2035")
    assert root.findtext("SupportedCountries") == "US,CA"
    locale = root.find("Locales/PackageLocale")
    assert locale is not None and locale.attrib == {"Code": "1031", "IsDefault": "true"}
    assert locale.findtext("Logo") == "logo32x32.png"
    term = locale.find("Terms/PackageTerm")
    assert term is not None and term.get("File") == "TermsOfUse.html"
    assert files["TermsOfUse.html"] == TERMS
    assert check_appsource(built.data) == []


def test_package_zip_holds_import_config_and_the_managed_connector_solution() -> None:
    built = build_appsource(_package(), _options(provider="Contoso Ltd"))
    inner = _read(_read(built.data)["package.zip"])
    assert sorted(inner) == ["PkgAssets/ContosoOrders_1_0_0_0_managed.zip", "PkgAssets/ImportConfig.xml",
                             "[Content_Types].xml"]  # fmt: skip
    config = ET.fromstring(inner["PkgAssets/ImportConfig.xml"])
    assert config.tag == "configdatastorage"
    listed = [item.get("solutionpackagefilename") for item in config.iter("configsolutionfile")]
    assert listed == ["ContosoOrders_1_0_0_0_managed.zip"]
    solution = inner["PkgAssets/ContosoOrders_1_0_0_0_managed.zip"]
    info = read_solution_info(solution, source="s.zip")
    assert info.managed and info.publisher_display_name == "Contoso Ltd"
    assert info.connector_name == "new_contosoorders"
    # a distribution package carries only what the platform reads: no connectorkit apiProperties copy
    assert not any(name.endswith("_apiproperties.json") for name in _read(solution))
    assert built.package_files == sorted(inner, key=lambda n: (n != "[Content_Types].xml", n))
    assert built.notes and "--assembly" in built.notes[0]


def test_assembly_and_assets_folder_go_into_package_zip() -> None:
    built = build_appsource(
        _package(), _options(assembly=("Contoso.dll", b"MZ\x90\x00fake"), assets_folder="PkgFolder")
    )
    inner = _read(_read(built.data)["package.zip"])
    assert inner["Contoso.dll"] == b"MZ\x90\x00fake"
    assert "PkgFolder/ImportConfig.xml" in inner and "PkgFolder/ContosoOrders_1_0_0_0_managed.zip" in inner
    assert built.notes == []
    assert check_appsource(built.data) == []


# logo


@needs_corpus
def test_logo_is_the_real_corpus_icon_scaled_to_32() -> None:
    package = ConnectorPackage.load(LINK_MOBILITY)
    assert package.icon is not None
    logo = _logo(build_appsource(package, _options()).data)
    assert logo.format == "PNG" and logo.size == (32, 32)
    original = Image.open(io.BytesIO(package.icon)).convert("RGB")
    # scaling keeps the picture: every channel's mean stays within a few levels of the 230x230 original's
    for big, small in zip(ImageStat.Stat(original).mean, ImageStat.Stat(logo).mean, strict=True):
        assert abs(big - small) < 4, (big, small)
    assert logo.getpixel((0, 0)) == original.getpixel((0, 0))  # a flat corner stays its colour


def test_transparent_icon_is_laid_on_the_brand_colour() -> None:
    icon = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    icon.paste((255, 0, 0, 255), (60, 60, 140, 140))
    buffer = io.BytesIO()
    icon.save(buffer, format="PNG")
    logo = _logo(build_appsource(_package(icon=buffer.getvalue(), color="#107C10"), _options()).data)
    assert logo.size == (32, 32) and logo.mode == "RGB"
    assert logo.getpixel((0, 0)) == (0x10, 0x7C, 0x10)
    assert logo.getpixel((16, 16)) == (255, 0, 0)


def test_non_square_icon_is_centred_on_a_square_tile() -> None:
    icon = Image.new("RGB", (200, 100), (255, 255, 0))
    buffer = io.BytesIO()
    icon.save(buffer, format="PNG")
    logo = _logo(build_appsource(_package(icon=buffer.getvalue(), color="#0000ff"), _options()).data)
    assert logo.getpixel((16, 1)) == (0, 0, 255) and logo.getpixel((16, 16)) == (255, 255, 0)


@pytest.mark.parametrize("color", ["#C50F1F", None, "not a colour"])
def test_connector_without_icon_gets_its_initials_on_the_brand_colour(color: str | None) -> None:
    logo = _logo(build_appsource(_package(color=color), _options()).data)
    assert logo.format == "PNG" and logo.size == (32, 32)
    corner = logo.convert("RGB").getpixel((0, 0))
    if color == "#C50F1F":
        assert corner == (0xC5, 0x0F, 0x1F)
    colours = logo.convert("RGB").getcolors(maxcolors=32 * 32) or []
    assert len(colours) > 2  # the initials are drawn (anti-aliased) on the tile


def test_unreadable_icon_is_a_one_line_error() -> None:
    with pytest.raises(InputError, match="not an image"):
        build_appsource(_package(icon=b"\x89PNG\r\n\x1a\nbroken"), _options())


# license terms


def test_license_from_text_is_escaped_html() -> None:
    text = 'Do not <script>alert("x")</script> & co.\nSecond line.\n\nNew paragraph.'
    page = license_from_text(text, title="Contoso <Orders>", provider="A&B").decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co.<br>\nSecond line.</p>" in page
    assert "<p>New paragraph.</p>" in page
    assert "<title>Contoso &lt;Orders&gt; license terms</title>" in page and "Provided by A&amp;B." in page
    assert html_problems(page.encode()) == []


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (b"<html><body><div><p>x</body></html>", "<div> of line 1 is closed"),
        (b"<html><body><p>x</p></span></body></html>", "</span> has no matching <span>"),
        (b"<html><body><div>terms\n<b>bold</div></body></html>", "</div> comes before <b>"),
        (b"<html><body><div>terms</body>", "</body> comes before <div>"),
        (b"<section>terms", "<section> is never closed"),
        (b"just some words", "no HTML elements"),
        (b"<html><head><title>t</title></head><body></body></html>", "no text"),
        ("<p>caf\u00e9</p>".encode("latin-1"), "not UTF-8"),
    ],
)
def test_html_problems(document: bytes, problem: str) -> None:
    problems = html_problems(document)
    assert problems and problem in problems[0], problems


def test_html_that_browsers_accept_passes() -> None:
    assert html_problems(TERMS) == []
    assert html_problems("\ufeff<p>Caf\u00e9<br>terms<img src=x.png><p>more".encode()) == []


# self-check


def _tampered(change: Callable[[dict[str, bytes]], None]) -> bytes:
    files = _read(build_appsource(_package(), _options()).data)
    change(files)
    return _rezip(files)


def _set_input(files: dict[str, bytes], old: bytes, new: bytes) -> None:
    assert old in files["input.xml"]
    files["input.xml"] = files["input.xml"].replace(old, new)


def _unmanaged_inner(files: dict[str, bytes]) -> None:
    inner = _read(files["package.zip"])
    inner["PkgAssets/ContosoOrders_1_0_0_0_managed.zip"] = build_solution(_package(), managed=False)
    files["package.zip"] = _rezip(inner)


def _small_logo(files: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, format="PNG")
    files["logo32x32.png"] = buffer.getvalue()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda f: f.pop("logo32x32.png"), "logo 'logo32x32.png' is not in"),
        (_small_logo, "is 64x64, expected 32x32"),
        (lambda f: f.update({"assets/extra.png": f["logo32x32.png"]}), "files must sit at the root"),
        (lambda f: f.update({"notes.txt": b"x"}), "no <Default> for extension 'txt'"),
        (lambda f: f.update({"readme.html": TERMS}), "'readme.html' is not named in input.xml"),
        (lambda f: f.update({"TermsOfUse.html": b"<div>open"}), "TermsOfUse.html: line 1: <div> is never closed"),
        (lambda f: _set_input(f, b"01/15/2025", b"2025-01-15"), "<StartDate> '2025-01-15' is not a date"),
        (lambda f: _set_input(f, b"01/15/2035", b"01/15/2020"), "<EndDate> is not after <StartDate>"),
        (lambda f: _set_input(f, b"<ProviderName>Contoso &amp; Sons", b"<ProviderName>"), "<ProviderName> is missing"),
        (lambda f: _set_input(f, b"TermsOfUse.html", b"Terms.html"), "terms file 'Terms.html' is not in"),
        (lambda f: _set_input(f, b'IsDefault="true"', b'IsDefault="false"'), '0 <PackageLocale IsDefault="true">'),
        (lambda f: _set_input(f, b"https://contoso.com", b"contoso.com"), "is not an absolute http(s) URL"),
        (lambda f: _set_input(f, b"<?xml", b'<!DOCTYPE x [<!ENTITY a "b">]><?xml'), "document type declarations"),
        (lambda f: _set_input(f, b"<SolutionAnchorName>Contoso", b"<SolutionAnchorName>Other"),
         "does not list the anchor solution 'OtherOrders_1_0_0_0_managed.zip'"),
        (lambda f: f.update({"package.zip": b"not a zip"}), "package.zip: not a zip file"),
        (_unmanaged_inner, "is an unmanaged solution"),
    ],
)  # fmt: skip
def test_check_finds_what_is_wrong(change: Callable[[dict[str, bytes]], object], problem: str) -> None:
    problems = check_appsource(_tampered(change))
    assert any(problem in p for p in problems), problems


def test_check_refuses_an_unsafe_zip_at_the_top() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../input.xml", "<PvsPackageData/>")
    with pytest.raises(InputError, match=r"'\.\./input\.xml'"):
        check_appsource(buffer.getvalue(), source="bad.zip")


# determinism and dates


def test_same_input_same_bytes() -> None:
    first = build_appsource(_package(), _options()).data
    assert build_appsource(_package(), _options()).data == first
    assert build_appsource(_package(), _options(start_date=date(2025, 1, 16))).data != first


def test_release_date_follows_source_date_epoch() -> None:
    assert release_date({}, date(2026, 3, 4)) == date(2026, 3, 4)
    assert release_date({"SOURCE_DATE_EPOCH": "1735689600"}, date(2026, 3, 4)) == date(2025, 1, 1)
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        release_date({"SOURCE_DATE_EPOCH": "yesterday"}, date(2026, 3, 4))


# CLI


@pytest.fixture
def connector(tmp_path: Path) -> Path:
    return _package().save(tmp_path / "connector")


def _args(connector: Path, out: Path, *extra: str) -> list[str]:
    return ["package", "appsource", str(connector), "-o", str(out), "--publisher", "Contoso", *extra]


def test_cli_builds_checks_and_writes(cli: Callable[..., Run], connector: Path, tmp_path: Path) -> None:
    terms = tmp_path / "terms.html"
    terms.write_bytes(TERMS)
    out = tmp_path / "Contoso_Orders.zip"
    run = cli(*_args(connector, out, "--license-file", terms, "--start-date", "2025-02-01", "--countries", "us, ca,US"))
    assert run.exit_code == 0, run.stderr
    assert "AppSource package of managed solution ContosoOrders 1.0.0.0" in run.stdout
    assert "02/01/2025-02/01/2035 in 2 countries" in run.stdout and "--assembly" in run.stdout
    files = _read(out.read_bytes())
    assert files["TermsOfUse.html"] == TERMS
    root = ET.fromstring(files["input.xml"])
    assert root.findtext("SupportedCountries") == "US,CA"
    assert root.findtext("LearnMoreLink") == "https://contoso.com"
    assert check_appsource(out) == []


def test_cli_is_deterministic_with_source_date_epoch(
    cli: Callable[..., Run], connector: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    outs = [tmp_path / "a.zip", tmp_path / "b.zip"]
    for out in outs:
        run = cli(*_args(connector, out, "--license-text", "Terms & <conditions>", "--format", "json"))
        assert run.exit_code == 0, run.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    summary = json.loads(run.stdout)
    assert summary["solutionFile"] == "ContosoOrders_1_0_0_0_managed.zip" and summary["solution"]["managed"]
    root = ET.fromstring(_read(outs[0].read_bytes())["input.xml"])
    assert (root.findtext("StartDate"), root.findtext("EndDate")) == ("01/01/2025", "01/01/2035")
    assert root.findtext("SupportedCountries") == ",".join(SUPPORTED_COUNTRIES)
    assert b"Terms &amp; &lt;conditions&gt;" in _read(outs[0].read_bytes())["TermsOfUse.html"]


def test_cli_ships_the_given_solution(cli: Callable[..., Run], connector: Path, tmp_path: Path) -> None:
    solution = build_solution(_package(), managed=True, version="2.3.0.1", publisher_prefix="cto")
    given = tmp_path / "given.zip"
    given.write_bytes(solution)
    out = tmp_path / "out.zip"
    run = cli(*_args(connector, out, "--license-text", "ok", "--solution", given, "--start-date", "03/01/2025"))
    assert run.exit_code == 0, run.stderr
    files = _read(out.read_bytes())
    assert ET.fromstring(files["input.xml"]).findtext("SolutionAnchorName") == "ContosoOrders_2_3_0_1_managed.zip"
    assert _read(files["package.zip"])["PkgAssets/ContosoOrders_2_3_0_1_managed.zip"] == solution


def _slip_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("solution.xml", "<ImportExportXml/>")
        archive.writestr("../../evil.txt", "owned")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--license-file / --license-text: give exactly one"),
        (["--license-text", "a", "--license-file", "{tmp}/terms.html"], "give exactly one"),
        (["--license-file", "{tmp}/missing.html"], "--license-file {tmp}/missing.html: cannot read"),
        (["--license-file", "{tmp}/bad.html"], "line 2: </body> comes before <div> of line 2 is closed"),
        (["--license-text", " \n "], "--license-text: must not be empty"),
        (["--license-text", "ok", "--version", "1.0"], "--version '1.0': expected four"),
        (["--license-text", "ok", "--solution", "{tmp}/missing.zip"], "--solution {tmp}/missing.zip: cannot read"),
        (["--license-text", "ok", "--solution", "{tmp}/terms.html"], "not a zip file"),
        (["--license-text", "ok", "--solution", "{tmp}/slip.zip"], "'../../evil.txt' is not a relative path"),
        (["--license-text", "ok", "--solution", "{tmp}/unmanaged.zip"], "is an unmanaged solution"),
        (["--license-text", "ok", "--solution", "{tmp}/managed.zip", "--version", "2.0.0.0"], "carries its own"),
        (["--license-text", "ok", "--start-date", "tomorrow"], "--start-date 'tomorrow': expected a date"),
        (["--license-text", "ok", "--start-date", "2030-01-01", "--end-date", "2029-12-31"], "must be after"),
        (["--license-text", "ok", "--countries", "US,USA"], "'USA' is not a two-letter country code"),
        (["--license-text", "ok", "--countries", "US,ZZ"], "ZZ is not on the AppSource page's list"),
        (["--license-text", "ok", "--countries", "uk"], "UK is not on the AppSource page's list"),
        (["--license-text", "ok", "--countries", "U1", "--allow-unlisted-country"], "'U1' is not a two-letter"),
        (["--license-text", "ok", "--learn-more-link", "ftp://x"], "expected an absolute http(s) URL"),
        (["--license-text", "ok", "--lcid", "0"], "--lcid 0"),
        (["--license-text", "ok", "--assembly", "{tmp}/terms.html"], "expected the package's .dll"),
        (["--license-text", "ok", "--assembly", "{tmp}/fake.dll"], "no 'MZ' header"),
        (["--license-text", "ok", "--assets-folder", "a/b"], "--assets-folder 'a/b'"),
        (["--license-text", "ok", "--publisher-prefix", "X"], "--publisher-prefix 'X'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cli: Callable[..., Run], connector: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    (tmp_path / "terms.html").write_bytes(TERMS)
    (tmp_path / "bad.html").write_bytes(b"<html><body>\n<div>terms</body></html>")
    (tmp_path / "slip.zip").write_bytes(_slip_zip())
    (tmp_path / "unmanaged.zip").write_bytes(build_solution(_package()))
    (tmp_path / "managed.zip").write_bytes(build_solution(_package(), managed=True))
    (tmp_path / "fake.dll").write_bytes(b"not an assembly")
    out = tmp_path / "out.zip"
    out.write_bytes(b"previous")
    run = cli(*_args(connector, out, *(a.format(tmp=tmp_path) for a in extra)))
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert message.format(tmp=tmp_path) in run.stderr, run.stderr
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1
    assert out.read_bytes() == b"previous"
    assert not (tmp_path.parent / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_bad_connector_and_output_are_one_line(cli: Callable[..., Run], tmp_path: Path) -> None:
    no_site = _package(website=False).save(tmp_path / "nosite")
    cases = [
        (_args(tmp_path / "nope", tmp_path / "o.zip", "--license-text", "x"), "no such connector folder"),
        (_args(no_site, tmp_path / "o.zip", "--license-text", "x"), "--learn-more-link: required"),
        (_args(no_site, tmp_path / "o.txt", "--license-text", "x"), "is a .zip file"),
        (_args(no_site, tmp_path / "nosite" / "apiProperties.json" / "o.zip", "--license-text", "x", "--learn-more-link",
               "https://x.io"), "cannot create folder"),
        ([*_args(no_site, tmp_path / "o.zip", "--license-text", "x"), "--publisher", " "], "--publisher: must not be"),
    ]  # fmt: skip
    for args, message in cases:
        run = cli(*args)
        assert run.exit_code == 2 and message in run.stderr and run.stderr.count("\n") == 1, (args, run.stderr)
    assert not (tmp_path / "o.zip").exists() and not (tmp_path / "o.txt").exists()


def test_unlisted_countries_need_the_option(cli: Callable[..., Run], connector: Path, tmp_path: Path) -> None:
    """The page lists the countries "at the time of writing": a code added since can be let through on purpose."""
    out = tmp_path / "new" / "dir" / "o.zip"
    run = cli(*_args(connector, out, "--license-text", "x", "--countries", "US,ZZ"))
    assert run.exit_code == 2 and "--allow-unlisted-country" in run.stderr and not out.exists()
    run = cli(*_args(connector, out, "--license-text", "x", "--countries", "US,zz", "--allow-unlisted-country"))
    assert run.exit_code == 0, run.stderr
    assert ET.fromstring(_read(out.read_bytes())["input.xml"]).findtext("SupportedCountries") == "US,ZZ"
    assert check_countries("us, CA,us") == ("US", "CA")
    assert check_countries("ZZ", allow_unlisted=True) == ("ZZ",)
    with pytest.raises(InputError, match="ZZ is not on the AppSource page's list"):
        check_countries("ZZ")
    assert all(check_countries(code) == (code,) for code in SUPPORTED_COUNTRIES)


def test_cli_help_documents_every_option(cli: Callable[..., Run]) -> None:
    text = cli("package", "appsource", "--help").stdout
    for option in ("--output", "--publisher", "--license-file", "--license-text", "--solution", "--version",
                   "--publisher-prefix", "--start-date", "--end-date", "--countries", "--learn-more-link", "--lcid",
                   "--assembly", "--assets-folder", "--allow-unlisted-country", "--format"):  # fmt: skip
        assert option in text


# corpus


@needs_corpus
def test_every_buildable_corpus_connector_passes_the_check() -> None:
    built = skipped = 0
    for folder in sorted(p for p in CORPUS.glob("*/*") if p.is_dir()):
        try:
            package = ConnectorPackage.load(folder)
            result = build_appsource(package, _options())
        except ConnectorkitError:
            skipped += 1  # does not load, or has no usable title: refused with a one-line error
            continue
        assert check_appsource(result.data) == [], folder
        assert _logo(result.data).size == (32, 32)
        built += 1
    assert built >= 140, (built, skipped)
