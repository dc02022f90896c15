"""The AppSource package: a connector's managed solution wrapped for Microsoft's marketplace.

Sources (``cloud-apis.md`` D.3):

- "Step 3: Create an AppSource package for your app", powerapps-docs
  ``developer/data-platform/create-package-app-appsource.md`` (commit 0d15c53f), also published as
  https://learn.microsoft.com/power-platform/developer/appsource/create-package-app — the outer zip holds,
  flat at its root, the Package Deployer package ``package.zip``, ``[Content_Types].xml`` (the documented
  13-extension form, reused for both zips), a 32x32 PNG or JPG icon, the license terms as HTML, and
  ``input.xml`` (``PvsPackageData``: ``ProviderName``, ``PackageFile``, ``SolutionAnchorName``,
  ``StartDate``/``EndDate`` as MM/DD/YYYY, ``SupportedCountries``, ``LearnMoreLink``, ``Locales`` with one
  ``PackageLocale Code= IsDefault=`` holding ``Logo`` and ``Terms/PackageTerm File=``). File names follow
  the page's sample (``logo32x32.png``, ``TermsOfUse.html``): "incorrect file names or a nested file
  structure" are the page's named causes of certification failure.
- "Create packages for the Package Deployer tool", power-platform ``alm/package-deployer-tool.md``:
  ``pac package init`` keeps the package's assets in ``PkgAssets/`` beside ``ImportConfig.xml``; the
  package assembly's ``GetImportPackageDataFolderName`` names that folder. "ImportConfig Reference"
  (``alm/importconfig-reference.md``): ``configdatastorage/solutions/configsolutionfile
  solutionpackagefilename=`` is the one required attribute; the root's attributes are all optional.
- The AppSource page's step 2 is "Create a *managed* solution", so the connector solution is built
  managed, and a solution given with ``--solution`` must be managed.

What connectorkit cannot make: ``<PackageName>.dll``, the compiled .NET assembly Package Deployer loads a
package through (built by ``pac package`` / MSBuild). It is added when given (``assembly``); without it
``package.zip`` holds everything else and a note says so.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from connectorkit.authoring.branding import default_brand_color, generate_icon
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.publish.solution import (
    CONTENT_TYPES_NS,
    CUSTOMIZATIONS_XML,
    SOLUTION_XML,
    SolutionInfo,
    build_solution,
    parse_solution_xml,
    parse_xml,
    xml_document,
    xml_element,
)
from connectorkit.publish.zips import CONTENT_TYPES, SafeZip, ZipLimits, open_zip, zip_bytes

INPUT_XML = "input.xml"
PACKAGE_FILE = "package.zip"
LOGO_FILE = "logo32x32.png"
TERMS_FILE = "TermsOfUse.html"
ASSETS_FOLDER = "PkgAssets"
IMPORT_CONFIG = "ImportConfig.xml"
LOGO_SIZE = 32
DEFAULT_LCID = 1033
DATE_FORMAT = "%m/%d/%Y"
DEFAULT_YEARS = 10
MAX_LICENSE_BYTES = 1024 * 1024
MAX_ICON_PIXELS = 4096 * 4096

CONTENT_TYPE_EXTENSIONS = (
    "xml",
    "xaml",
    "dll",
    "zip",
    "jpg",
    "gif",
    "png",
    "htm",
    "html",
    "db",
    "css",
    "json",
    "msapp",
)
"""The documented ``[Content_Types].xml`` form, in the page's order (every type application/octet-stream)."""

_DOCUMENTED_COUNTRIES = (
    "AE,AL,AM,AO,AR,AT,AU,AZ,BA,BB,BD,BE,BG,BH,BM,BN,BO,BR,BY,CA,CH,CI,CL,CM,CO,CR,CV,CW,CY,CZ,DE,DK,DO,DZ,EC,EE,"
    "EG,ES,FI,FR,GB,GE,GH,GR,GT,HK,HN,HR,HU,ID,IE,IL,IN,IQ,IS,IT,JM,JO,JP,KE,KG,KN,KR,KW,KY,KZ,LB,LK,LT,LU,LV,LY,"
    "MA,MC,MD,ME,MK,MN,MO,MT,MU,MX,MY,NG,NI,NL,NO,NZ,OM,PA,PE,PH,PK,PL,PR,PS,PT,PY,QA,RO,RS,RU,RW,SA,SE,SG,SI,SK,"
    "SN,SV,TH,TM,TN,TR,TT,TW,UA,US,UY,UZ,VE,VI,VN,ZA,ZW"
)
SUPPORTED_COUNTRIES = tuple(_DOCUMENTED_COUNTRIES.split(","))
"""The page's list of supported countries and regions "at the time of writing": the default."""

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MMDDYYYY = re.compile(r"\d{2}/\d{2}/\d{4}")
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_OPTIONAL_END = frozenset(
    {"html", "head", "body", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
     "optgroup", "colgroup", "caption", "rt", "rp"}
)  # fmt: skip
_RAW_TEXT = frozenset({"script", "style", "title"})


@dataclass(frozen=True)
class AppSourceOptions:
    """What ``input.xml`` says beyond the files, and what goes into ``package.zip`` besides the solution."""

    provider: str
    """``ProviderName``; also the publisher display name of a solution built here."""
    license_html: bytes
    start_date: date
    end_date: date
    learn_more_link: str
    countries: tuple[str, ...] = SUPPORTED_COUNTRIES
    lcid: int = DEFAULT_LCID
    assets_folder: str = ASSETS_FOLDER
    assembly: tuple[str, bytes] | None = None
    """``(file name, bytes)`` of a prebuilt Package Deployer assembly to put at package.zip's root."""


@dataclass(frozen=True)
class AppSourcePackage:
    """A built AppSource package: its bytes and what went into it."""

    data: bytes
    solution: SolutionInfo
    solution_file: str
    files: list[str]
    package_files: list[str]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "bytes": len(self.data),
            "files": self.files,
            "packageFiles": self.package_files,
            "solutionFile": self.solution_file,
            "solution": self.solution.as_json(),
            "notes": self.notes,
        }


# options


def _plain_text(value: str, what: str) -> str:
    if _XML_INVALID.search(value):
        raise InputError(f"{what}: contains a control character that XML cannot hold")
    return value


def check_provider(name: str) -> str:
    """``ProviderName``: the solution provider's name, as the marketplace shows it."""
    value = name.strip()
    if not value:
        raise InputError("--publisher: must not be empty (the provider name AppSource shows)")
    return _plain_text(value, "--publisher")


def parse_date(value: str, option: str) -> date:
    """A date given as YYYY-MM-DD or as the package's own MM/DD/YYYY."""
    text = value.strip()
    for pattern in ("%Y-%m-%d", DATE_FORMAT):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise InputError(f"{option} {value!r}: expected a date as YYYY-MM-DD or MM/DD/YYYY")


def years_after(start: date, years: int) -> date:
    """The same day ``years`` later (28 February for a 29 February start in a common year)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def release_date(environ: Mapping[str, str], today: date) -> date:
    """The default start date: today, or the day of ``SOURCE_DATE_EPOCH`` when set, the reproducible-builds
    convention for builds that must not depend on when they run."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return today
    if not epoch.isdigit():
        raise InputError(f"SOURCE_DATE_EPOCH {epoch!r}: expected whole seconds since 1970-01-01")
    try:
        return datetime.fromtimestamp(int(epoch), UTC).date()
    except (OverflowError, OSError, ValueError):
        raise InputError(f"SOURCE_DATE_EPOCH {epoch!r}: out of range") from None


def check_dates(start: date, end: date) -> None:
    if end <= start:
        raise InputError(
            f"--end-date {end.strftime(DATE_FORMAT)}: must be after --start-date {start.strftime(DATE_FORMAT)}"
        )


def check_countries(text: str, *, allow_unlisted: bool = False) -> tuple[str, ...]:
    """A comma-separated list of two-letter country or region codes, upper-cased, duplicates dropped. Each must
    be on the page's list (:data:`SUPPORTED_COUNTRIES`) unless ``allow_unlisted``: the page gives the list "at
    the time of writing", so a newer code can be let through deliberately, a typo (``UK``, ``ZZ``) cannot."""
    codes: list[str] = []
    for part in text.split(","):
        code = part.strip().upper()
        if not _COUNTRY.fullmatch(code):
            raise InputError(f"--countries {text!r}: {part.strip()!r} is not a two-letter country code such as US")
        if not allow_unlisted and code not in SUPPORTED_COUNTRIES:
            raise InputError(
                f"--countries {text!r}: {code} is not on the AppSource page's list of supported countries and regions "
                "(pass --allow-unlisted-country if it was added since)"
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def check_lcid(value: int) -> int:
    if not 1 <= value <= 0xFFFF:
        raise InputError(f"--lcid {value}: expected a Windows language code identifier such as 1033 (US English)")
    return value


def check_link(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InputError(f"{what} {url!r}: expected an absolute http(s) URL")
    return _plain_text(url.strip(), what)


def website(package: ConnectorPackage) -> str | None:
    """The ``Website`` entry of the definition's ``x-ms-connector-metadata``: the natural "learn more" page."""
    metadata = package.definition.get("x-ms-connector-metadata")
    for item in metadata if isinstance(metadata, list) else []:
        if isinstance(item, dict) and str(item.get("propertyName", "")).strip().lower() == "website":
            value = item.get("propertyValue")
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def check_assets_folder(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise InputError(f"--assets-folder {name!r}: one folder name of letters, digits, '_', '.' or '-'")
    return name


def read_assembly(path: Path) -> tuple[str, bytes]:
    """A prebuilt Package Deployer assembly: a .dll that is a Windows PE file (starts with ``MZ``)."""
    if path.suffix.lower() != ".dll":
        raise InputError(f"--assembly {path}: expected the package's .dll (built by `pac package` / dotnet build)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--assembly {path}: cannot read: {exc.strerror}") from None
    if not data.startswith(b"MZ"):
        raise InputError(f"--assembly {path}: not a .NET assembly (no 'MZ' header)")
    return path.name, data


# license terms


class _HtmlShape(HTMLParser):
    """Tracks open elements to find tags that are never closed or closed out of order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self.elements = 0
        self.has_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1
        if tag not in _VOID_ELEMENTS:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_ELEMENTS:
            return
        line = self.getpos()[0]
        index = next((i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i][0] == tag), None)
        if index is None:
            self.problems.append(f"line {line}: </{tag}> has no matching <{tag}>")
            return
        for inner, inner_line in self.stack[index + 1 :]:
            if inner not in _OPTIONAL_END:
                self.problems.append(f"line {line}: </{tag}> comes before <{inner}> of line {inner_line} is closed")
        del self.stack[index:]

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self.stack and self.stack[-1][0] in _RAW_TEXT):
            self.has_text = True

    def finish(self) -> list[str]:
        self.close()
        problems = list(self.problems)
        problems += [f"line {line}: <{tag}> is never closed" for tag, line in self.stack if tag not in _OPTIONAL_END]
        if not self.elements:
            problems.append("no HTML elements (the license terms must be an HTML document)")
        elif not self.has_text:
            problems.append("no text to show")
        return problems


def html_problems(data: bytes) -> list[str]:
    """Why ``data`` is not a well-formed-enough HTML document to show as license terms, or nothing.

    Browsers forgive a lot, so this only checks what signals a broken or wrong file: UTF-8 text, some
    elements and some visible text, every non-void element closed (except those HTML lets go unclosed,
    such as ``<p>`` and ``<li>``), and end tags in order."""
    if len(data) > MAX_LICENSE_BYTES:
        return [f"larger than {MAX_LICENSE_BYTES // 1024} KiB"]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [f"not UTF-8 text (byte {exc.start})"]
    parser = _HtmlShape()
    parser.feed(text)
    return parser.finish()


def check_license_html(data: bytes, source: str) -> bytes:
    """The license terms file as given, after :func:`html_problems` finds nothing wrong with it."""
    problems = html_problems(data)
    if problems:
        raise InputError(f"{source}: not usable as license terms HTML: {problems[0]}")
    return data


def read_license_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--license-file {path}: cannot read: {exc.strerror}") from None
    return check_license_html(data, f"--license-file {path}")


def license_from_text(text: str, *, title: str, provider: str) -> bytes:
    """A small HTML document for plain-text terms: paragraphs at blank lines, line breaks kept, all escaped."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise InputError("--license-text: must not be empty")
    _plain_text(body, "--license-text")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    heading = html.escape(f"{title} license terms")
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{heading}</title>",
        "</head>",
        "<body>",
        f"<h1>{heading}</h1>",
        f"<p>Provided by {html.escape(provider)}.</p>",
    ]
    lines += ["<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


# icon


def _brand_color(package: ConnectorPackage, title: str) -> str:
    raw = package.api_properties.get("properties")
    color = raw.get("iconBrandColor") if isinstance(raw, dict) else None
    if isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color.strip()):
        return color.strip().lower()
    return default_brand_color(title)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def derive_logo(package: ConnectorPackage, title: str) -> bytes:
    """The 32x32 PNG AppSource shows next to the package: the connector's icon scaled down and laid on its
    brand colour (Power Platform draws connector icons on a tile of ``iconBrandColor``, so transparent
    parts keep that look), or, for a connector without an icon, its initials on the brand colour."""
    color = _brand_color(package, title)
    if package.icon is None:
        return generate_icon(title, color, size=LOGO_SIZE)
    where = package.name_of("icon.png")
    try:
        with Image.open(io.BytesIO(package.icon)) as image:
            width, height = image.size
            if width * height > MAX_ICON_PIXELS:
                raise InputError(f"{where}: {width}x{height} is too large for an icon")
            source = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InputError(f"{where}: not an image that can be read (expected a PNG)") from None
    side = max(width, height)
    tile = Image.new("RGBA", (side, side), color)
    tile.alpha_composite(source, ((side - width) // 2, (side - height) // 2))
    return _png(tile.convert("RGB").resize((LOGO_SIZE, LOGO_SIZE), Image.Resampling.LANCZOS))


# solution


def solution_file_name(info: SolutionInfo) -> str:
    """The name Dataverse exports a managed solution under: ``<UniqueName>_1_0_0_0_managed.zip``."""
    return f"{info.unique_name}_{info.version.replace('.', '_')}_managed.zip"


def read_given_solution(data: bytes, source: str, *, limits: ZipLimits | None = None) -> SolutionInfo:
    """A solution zip given by the user: read as untrusted, the three root files present, managed."""
    with open_zip(data, source=source, limits=limits) as archive:
        found = {name: _find(archive, name) for name in (CONTENT_TYPES, SOLUTION_XML, CUSTOMIZATIONS_XML)}
        missing = [name for name, entry in found.items() if entry is None]
        if missing:
            raise InputError(f"{source}: not a solution zip (no {', '.join(missing)})")
        documents = {name: archive.read(entry) for name, entry in found.items() if entry is not None}
    for name, document in documents.items():
        parse_xml(document, f"{source}: {name}")
    info = parse_solution_xml(documents[SOLUTION_XML], f"{source}: {SOLUTION_XML}")
    if not info.unique_name or not re.fullmatch(r"[A-Za-z0-9_]+", info.unique_name):
        raise InputError(f"{source}: solution.xml has no usable <UniqueName> ({info.unique_name!r})")
    if not re.fullmatch(r"\d+(\.\d+){1,3}", info.version):
        raise InputError(f"{source}: solution.xml <Version> {info.version!r} is not a version such as 1.0.0.0")
    if not info.managed:
        raise InputError(
            f"{source}: is an unmanaged solution; AppSource installs managed solutions "
            "(build one with `connectorkit package solution --managed`, or leave out --solution)"
        )
    return info


def _find(archive: SafeZip, name: str) -> str | None:
    """An entry by name, ignoring case as Windows tools do."""
    folded = name.casefold()
    return next((n for n in archive.names() if n.casefold() == folded), None)


# documents


def content_types_xml() -> bytes:
    """The documented ``[Content_Types].xml``; the page reuses the package's one for the outer zip."""
    root = ET.Element("Types", {"xmlns": CONTENT_TYPES_NS})
    for extension in CONTENT_TYPE_EXTENSIONS:
        xml_element(root, "Default", Extension=extension, ContentType="application/octet-stream")
    return xml_document(root)


def import_config_xml(solution_file: str) -> bytes:
    """``ImportConfig.xml`` importing the one solution; the reference's optional root attributes are left out."""
    root = ET.Element("configdatastorage")
    solutions = xml_element(root, "solutions")
    xml_element(
        solutions,
        "configsolutionfile",
        solutionpackagefilename=solution_file,
        overwriteunmanagedcustomizations="false",
        publishworkflowsandactivateplugins="true",
    )
    return xml_document(root)


def input_xml(options: AppSourceOptions, solution_file: str) -> bytes:
    root = ET.Element("PvsPackageData")
    xml_element(root, "ProviderName", options.provider)
    xml_element(root, "PackageFile", PACKAGE_FILE)
    xml_element(root, "SolutionAnchorName", solution_file)
    xml_element(root, "StartDate", options.start_date.strftime(DATE_FORMAT))
    xml_element(root, "EndDate", options.end_date.strftime(DATE_FORMAT))
    xml_element(root, "SupportedCountries", ",".join(options.countries))
    xml_element(root, "LearnMoreLink", options.learn_more_link)
    locale = xml_element(xml_element(root, "Locales"), "PackageLocale", Code=str(options.lcid), IsDefault="true")
    xml_element(locale, "Logo", LOGO_FILE)
    xml_element(xml_element(locale, "Terms"), "PackageTerm", File=TERMS_FILE)
    return xml_document(root)


def package_deployer_zip(solution_file: str, solution: bytes, options: AppSourceOptions) -> bytes:
    """``package.zip``: ``[Content_Types].xml``, ``<assets>/ImportConfig.xml``, ``<assets>/<solution>.zip``
    and, when given, the package assembly."""
    folder = options.assets_folder
    entries = [
        (CONTENT_TYPES, content_types_xml()),
        (f"{folder}/{IMPORT_CONFIG}", import_config_xml(solution_file)),
        (f"{folder}/{solution_file}", solution),
    ]
    if options.assembly is not None:
        entries.append(options.assembly)
    return zip_bytes(entries)


def build_appsource(
    package: ConnectorPackage,
    options: AppSourceOptions,
    *,
    solution: bytes | None = None,
    solution_source: str = "--solution",
    publisher_prefix: str | None = None,
    version: str | None = None,
) -> AppSourcePackage:
    """The AppSource package zip for ``package``, byte-identical for the same input.

    The solution is ``solution`` when given (it must be managed), else the connector's managed solution
    built with the provider as publisher and without connectorkit's apiProperties copy (a distribution
    package carries only what the platform reads)."""
    title = package_title(package)
    if solution is None:
        solution = build_solution(
            package,
            managed=True,
            publisher_prefix=publisher_prefix,
            version=version,
            publisher=options.provider,
            extras=False,
        )
    info = read_given_solution(solution, solution_source)
    solution_file = solution_file_name(info)
    inner = package_deployer_zip(solution_file, solution, options)
    entries = {
        CONTENT_TYPES: content_types_xml(),
        INPUT_XML: input_xml(options, solution_file),
        PACKAGE_FILE: inner,
        LOGO_FILE: derive_logo(package, title),
        TERMS_FILE: options.license_html,
    }
    data = zip_bytes(entries.items())
    notes = []
    if options.assembly is None:
        notes.append(
            f"{PACKAGE_FILE} has no Package Deployer assembly (<PackageName>.dll): build one with `pac package init` "
            "and `dotnet build`, then pass it with --assembly; Package Deployer loads packages through it"
        )
    with open_zip(inner, source=PACKAGE_FILE) as archive:
        package_files = archive.names()
    return AppSourcePackage(
        data=data,
        solution=info,
        solution_file=solution_file,
        files=[CONTENT_TYPES, *sorted(name for name in entries if name != CONTENT_TYPES)],
        package_files=package_files,
        notes=notes,
    )


def package_title(package: ConnectorPackage) -> str:
    info = package.definition.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"{package.name_of('apiDefinition.swagger.json')}: info.title is required to name the package")
    return title.strip()


# checking


def check_appsource(data: Path | bytes, *, source: str | None = None, limits: ZipLimits | None = None) -> list[str]:
    """Problems with an AppSource package zip, each one sentence naming the file; empty when it is sound.

    Checks the layout the AppSource page requires (flat root, every file ``input.xml`` names present,
    a 32x32 PNG/JPG logo, HTML terms, dates, a content type for every extension) and looks inside
    ``package.zip``: ``ImportConfig.xml`` in one assets folder listing solution zips that exist, the
    anchor solution among them, with the three solution files and marked managed. A zip that cannot be
    read safely at the top level raises :class:`InputError`; nested zips that cannot are problems."""
    label = source or (str(data) if isinstance(data, Path) else "AppSource package")
    problems: list[str] = []
    with open_zip(data, source=label, limits=limits) as archive:
        names = archive.names()
        nested = sorted(archive.folders())
        if nested:
            problems.append(f"{label}: folder {nested[0]!r}: files must sit at the root (no nested structure)")
        problems += _check_content_types(archive, label, names)
        if INPUT_XML not in archive:
            problems.append(f"{label}: no {INPUT_XML}")
            return problems
        try:
            root = parse_xml(archive.read(INPUT_XML), f"{label}: {INPUT_XML}")
        except InputError as exc:
            return [*problems, str(exc)]
        problems += _check_input(archive, root, f"{label}: {INPUT_XML}", label, limits)
    return problems


def _check_content_types(archive: SafeZip, label: str, names: list[str]) -> list[str]:
    if CONTENT_TYPES not in archive:
        return [f"{label}: no {CONTENT_TYPES}"]
    try:
        root = parse_xml(archive.read(CONTENT_TYPES), f"{label}: {CONTENT_TYPES}")
    except InputError as exc:
        return [str(exc)]
    declared = {(d.get("Extension") or "").lower() for d in root.iter(f"{{{CONTENT_TYPES_NS}}}Default")}
    if root.tag != f"{{{CONTENT_TYPES_NS}}}Types":
        return [f"{label}: {CONTENT_TYPES}: root element is not <Types> of {CONTENT_TYPES_NS}"]
    missing = sorted({PurePosixPath(n).suffix[1:].lower() for n in names if PurePosixPath(n).suffix} - declared)
    return [f"{label}: {CONTENT_TYPES}: no <Default> for extension {ext!r}" for ext in missing]


def _text(root: ET.Element, tag: str) -> str:
    element = root.find(tag)
    return (element.text or "").strip() if element is not None else ""


def _check_input(archive: SafeZip, root: ET.Element, where: str, label: str, limits: ZipLimits | None) -> list[str]:
    if root.tag != "PvsPackageData":
        return [f"{where}: root element is <{root.tag}>, expected <PvsPackageData>"]
    problems: list[str] = []
    required = ("ProviderName", "PackageFile", "SolutionAnchorName", "StartDate", "EndDate", "SupportedCountries",
                "LearnMoreLink")  # fmt: skip
    problems += [f"{where}: <{tag}> is missing or empty" for tag in required if not _text(root, tag)]
    problems += _check_dates(root, where)
    countries = _text(root, "SupportedCountries")
    bad = [c for c in countries.split(",") if countries and not _COUNTRY.fullmatch(c.strip())]
    if bad:
        problems.append(f"{where}: <SupportedCountries> {bad[0]!r} is not a two-letter code")
    link = _text(root, "LearnMoreLink")
    if link and (urlsplit(link).scheme not in {"http", "https"} or not urlsplit(link).netloc):
        problems.append(f"{where}: <LearnMoreLink> {link!r} is not an absolute http(s) URL")
    referenced = {CONTENT_TYPES, INPUT_XML}
    problems += _check_locales(archive, root, where, label, referenced)
    package_file = _text(root, "PackageFile")
    if package_file:
        referenced.add(package_file)
        if package_file not in archive:
            problems.append(f"{where}: <PackageFile> {package_file!r} is not in {label}")
        else:
            problems += _check_package(archive.read(package_file), f"{label}/{package_file}",
                                       _text(root, "SolutionAnchorName"), limits)  # fmt: skip
    problems += [f"{label}: {name!r} is not named in {INPUT_XML}" for name in archive.names() if name not in referenced]
    return problems


def _check_dates(root: ET.Element, where: str) -> list[str]:
    problems: list[str] = []
    dates: dict[str, date] = {}
    for tag in ("StartDate", "EndDate"):
        text = _text(root, tag)
        if not text:
            continue
        try:
            if not _MMDDYYYY.fullmatch(text):
                raise ValueError(text)
            dates[tag] = datetime.strptime(text, DATE_FORMAT).date()
        except ValueError:
            problems.append(f"{where}: <{tag}> {text!r} is not a date as MM/DD/YYYY")
    if len(dates) == 2 and dates["EndDate"] <= dates["StartDate"]:
        problems.append(f"{where}: <EndDate> is not after <StartDate>")
    return problems


def _check_locales(archive: SafeZip, root: ET.Element, where: str, label: str, referenced: set[str]) -> list[str]:
    locales = root.findall("Locales/PackageLocale")
    if not locales:
        return [f"{where}: no <Locales>/<PackageLocale>"]
    problems: list[str] = []
    defaults = [loc for loc in locales if (loc.get("IsDefault") or "").strip().lower() == "true"]
    if len(defaults) != 1:
        problems.append(f'{where}: {len(defaults)} <PackageLocale IsDefault="true">, expected exactly one')
    for locale in locales:
        code = (locale.get("Code") or "").strip()
        here = f"{where}: <PackageLocale Code={code!r}>"
        if not code.isdigit():
            problems.append(f"{here}: Code is not a language code identifier such as 1033")
        logo = _text(locale, "Logo")
        if not logo:
            problems.append(f"{here}: no <Logo>")
        else:
            referenced.add(logo)
            problems += _check_logo(archive, logo, here, label)
        terms = [(term.get("File") or "").strip() for term in locale.findall("Terms/PackageTerm")]
        if not terms or not all(terms):
            problems.append(f"{here}: no <Terms>/<PackageTerm File=...>")
        for term in filter(None, terms):
            referenced.add(term)
            if term not in archive:
                problems.append(f"{here}: terms file {term!r} is not in {label}")
                continue
            problems += [f"{label}/{term}: {p}" for p in html_problems(archive.read(term))[:1]]
    return problems


def _check_logo(archive: SafeZip, logo: str, where: str, label: str) -> list[str]:
    if logo not in archive:
        return [f"{where}: logo {logo!r} is not in {label}"]
    try:
        with Image.open(io.BytesIO(archive.read(logo))) as image:
            kind, size = image.format, image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return [f"{label}/{logo}: not an image"]
    problems = []
    if kind not in {"PNG", "JPEG"}:
        problems.append(f"{label}/{logo}: is {kind}, expected PNG or JPG")
    if size != (LOGO_SIZE, LOGO_SIZE):
        problems.append(f"{label}/{logo}: is {size[0]}x{size[1]}, expected {LOGO_SIZE}x{LOGO_SIZE}")
    return problems


def _check_package(data: bytes, label: str, anchor: str, limits: ZipLimits | None) -> list[str]:
    """``package.zip``: one assets folder with ``ImportConfig.xml`` naming solution zips that exist."""
    try:
        with open_zip(data, source=label, limits=limits) as archive:
            problems = [] if CONTENT_TYPES in archive else [f"{label}: no {CONTENT_TYPES}"]
            configs = [n for n in archive.names() if PurePosixPath(n).name.lower() == IMPORT_CONFIG.lower()
                       and len(PurePosixPath(n).parts) == 2]  # fmt: skip
            if len(configs) != 1:
                return [*problems, f"{label}: {len(configs)} <folder>/{IMPORT_CONFIG} files, expected one"]
            folder = PurePosixPath(configs[0]).parent
            config = parse_xml(archive.read(configs[0]), f"{label}/{configs[0]}")
            listed = [(s.get("solutionpackagefilename") or "").strip() for s in config.iter("configsolutionfile")]
            if not listed:
                problems.append(f"{label}/{configs[0]}: no <configsolutionfile>")
            for name in listed:
                if f"{folder}/{name}" not in archive:
                    problems.append(f"{label}/{configs[0]}: solution {name!r} is not in {folder}/")
            if anchor and anchor not in listed:
                problems.append(f"{label}/{configs[0]}: does not list the anchor solution {anchor!r}")
            if anchor and f"{folder}/{anchor}" in archive:
                try:
                    read_given_solution(archive.read(f"{folder}/{anchor}"), f"{label}/{folder}/{anchor}", limits=limits)
                except InputError as exc:
                    problems.append(str(exc))
            return problems
    except InputError as exc:
        return [str(exc)]
