"""Rules on the files beside the definition: ``icon.png``, ``readme.md``, ``intro.md`` and
``script.csx``.

Icon rules follow the Power Apps solution checker (``connector-validate-iconimage``,
``-pngiconimage``, ``-iconsize``, ``-backgroundwithbrandiconcolor``) and the certification
guidance; readme and intro rules follow Microsoft's templates; script rules follow the "Write
code in a custom connector" page. A file that is absent gets no findings, except where the
absence is the problem (a readme for certification, an icon for a certified connector).
"""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import LineIndex
from connectorkit.definition.package import ICON, INTRO, README, SCRIPT, ConnectorPackage
from connectorkit.lint.engine import Context
from connectorkit.lint.registry import CERTIFICATION, Category, Hit, On, Profile, hit, rule
from connectorkit.lint.rules.api_properties import CHECKER_SOURCE, color_of, connection_parameters

CERTIFIED_ONLY = frozenset({Profile.CERTIFIED})
INDEPENDENT_PUBLISHER_ONLY = frozenset({Profile.INDEPENDENT_PUBLISHER})
SUBMISSION_SOURCE = "https://learn.microsoft.com/en-us/connectors/custom-connectors/certification-submission"
WRITE_CODE_SOURCE = "https://learn.microsoft.com/en-us/connectors/custom-connectors/write-code"

MAX_FILE_BYTES = 1024 * 1024  # "less than 1 MB" for the icon and for the script
ICON_MIN_SIDE = 100
ICON_MAX_SIDE = 230
LOGO_MAX_SHARE = 0.70
WHITE = (255, 255, 255)
DEFAULT_BLUE = (0x00, 0x7E, 0xE5)
SAME_COLOR = 12.0  # RGB distance under which two colours count as the same (white, default blue)
UNIFORM_DISTANCE = 40.0  # border pixels this close to the background colour are background
UNIFORM_SHARE = 0.90  # at least this share of the border must be background
BRAND_DISTANCE = 60.0  # background this far from iconBrandColor does not match it
LOGO_THRESHOLD = 48  # a pixel differing from the background by more than this in a channel is logo

# --------------------------------------------------------------------------- icon analysis


@dataclass(frozen=True)
class IconInfo:
    """What the icon is, decoded once per run."""

    error: str | None = None
    format: str | None = None
    width: int = 0
    height: int = 0
    transparent: bool = False  # part of the border is not fully opaque
    background: tuple[int, int, int] | None = None  # median colour of the border
    uniform: bool = True
    logo_width: float = 0.0  # share of the width the logo's bounding box takes
    logo_height: float = 0.0


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def icon_info(ctx: Context) -> IconInfo | None:
    """The decoded icon, or ``None`` when the connector has none."""
    data = ctx.package.icon
    if data is None:
        return None
    return ctx.memo("assets.icon", lambda: _analyse(data))


def _analyse(data: bytes) -> IconInfo:
    from PIL import Image, ImageChops, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format
            opened.load()
            image = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        return IconInfo(error=str(exc) or type(exc).__name__)
    width, height = image.size
    if not width or not height:
        return IconInfo(format=fmt)
    pixels = image.load()
    assert pixels is not None
    ring = {(x, y) for x in range(width) for y in (0, height - 1)} | {
        (x, y) for y in range(height) for x in (0, width - 1)
    }
    border = [cast(tuple[int, int, int, int], pixels[x, y]) for x, y in ring]
    transparent = any(p[3] < 255 for p in border)
    background = (
        int(statistics.median(p[0] for p in border)),
        int(statistics.median(p[1] for p in border)),
        int(statistics.median(p[2] for p in border)),
    )
    close = sum(1 for p in border if _distance(p[:3], background) <= UNIFORM_DISTANCE)
    uniform = close >= UNIFORM_SHARE * len(border)
    solid = Image.new("RGB", image.size, background)
    difference = ImageChops.difference(image.convert("RGB"), solid)
    bands = [band.point(lambda v: 255 if v > LOGO_THRESHOLD else 0) for band in difference.split()]
    mask = ImageChops.lighter(ImageChops.lighter(bands[0], bands[1]), bands[2])
    box = mask.getbbox()
    logo_width = (box[2] - box[0]) / width if box else 0.0
    logo_height = (box[3] - box[1]) / height if box else 0.0
    return IconInfo(
        format=fmt,
        width=width,
        height=height,
        transparent=transparent,
        background=background,
        uniform=uniform,
        logo_width=logo_width,
        logo_height=logo_height,
    )


def _decoded_png(ctx: Context) -> IconInfo | None:
    """The icon when it is a readable PNG (the other icon rules have nothing to say otherwise)."""
    info = icon_info(ctx)
    if info is None or info.error is not None or info.format != "PNG":
        return None
    return info


def _background_problem(info: IconInfo) -> str | None:
    """What is wrong with the icon's background, if anything."""
    if info.background is None:
        return None
    if info.transparent:
        return "the background is transparent"
    if not info.uniform:
        return "the background is not one uniform colour"
    if _distance(info.background, WHITE) <= SAME_COLOR:
        return "the background is white"
    if _distance(info.background, DEFAULT_BLUE) <= SAME_COLOR:
        return "the background is the default blue #007ee5"
    return None


# --------------------------------------------------------------------------- icon rules


@rule(
    "IconNotPng",
    category=Category.ICON,
    severity=Severity.ERROR,
    message="The icon image is invalid.Icon image should be valid image file and must be submitted in PNG format "
    "as icon.png.",
    on=On.PACKAGE,
    fix="Save the icon as a PNG file named icon.png.",
    source=CHECKER_SOURCE,
)
def icon_not_png(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The icon must be a readable PNG image: a file that does not decode, or an image in
    another format, is rejected when it is uploaded with the connector. This is the solution
    checker's ``connector-validate-pngiconimage``."""
    info = icon_info(ctx)
    if info is None:
        return
    if info.error is not None:
        yield hit("", file=ICON, message=f"The icon image is invalid: it cannot be read as an image ({info.error}).")
    elif info.format != "PNG":
        yield hit(
            "", file=ICON, message=f"The icon image is invalid: it is a {info.format} image; it must be a PNG file."
        )


@rule(
    "IconTooLarge",
    category=Category.ICON,
    severity=Severity.ERROR,
    message="The icon file is {0} bytes; it must be smaller than 1 MB.",
    on=On.PACKAGE,
    fix="Export the icon at 230x230 pixels; such a PNG takes a few kilobytes.",
    source=CHECKER_SOURCE,
)
def icon_too_large(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Connector icons must be smaller than 1 MB; larger uploads are refused. Part of the
    solution checker's ``connector-validate-iconimage``."""
    if package.icon is not None and len(package.icon) >= MAX_FILE_BYTES:
        yield hit("", len(package.icon), file=ICON)


@rule(
    "IconSizeNotValid",
    category=Category.ICON,
    severity=Severity.ERROR,
    message="The icon image size is invalid. Update the icon dimensions to 1:1 within the range of 100x100 to "
    "230x230 pixels.",
    on=On.PACKAGE,
    fix="Export the icon as a square of 230x230 pixels.",
    profiles=CERTIFIED_ONLY,
    source=CHECKER_SOURCE,
)
def icon_size_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """A certified connector's icon is shown in square tiles: it must be square, between
    100x100 and 230x230 pixels (230x230 is what reviewers ask for). This is the solution
    checker's ``connector-validate-iconsize``."""
    info = _decoded_png(ctx)
    if info is None:
        return
    square = info.width == info.height
    if not square or not ICON_MIN_SIDE <= info.width <= ICON_MAX_SIDE:
        yield hit(
            "",
            file=ICON,
            message=f"The icon image size is invalid: it is {info.width}x{info.height} pixels. Update the icon "
            "dimensions to 1:1 within the range of 100x100 to 230x230 pixels.",
        )


@rule(
    "IconBackgroundNotValid",
    category=Category.ICON,
    severity=Severity.ERROR,
    message="The background color of icon image is invalid. Update with consistent background.",
    on=On.PACKAGE,
    fix="Fill the whole square with your brand colour (not white, not #007ee5), without transparency.",
    profiles=CERTIFIED_ONLY,
    source=CHECKER_SOURCE,
)
def icon_background_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The icon is shown on tiles of its own background colour, so the background must be
    opaque, one uniform colour, and neither white nor the default blue ``#007ee5``. This is the
    solution checker's ``connector-validate-backgroundwithbrandiconcolor``; the background is
    read from the icon's outermost pixels."""
    info = _decoded_png(ctx)
    problem = _background_problem(info) if info is not None else None
    if problem is not None:
        yield hit(
            "",
            file=ICON,
            message=f"The background color of icon image is invalid: {problem}. Update with consistent background.",
        )


@rule(
    "IconBrandColorMismatch",
    category=Category.ICON,
    severity=Severity.WARNING,
    message="The icon's background {0} does not match the brand colour {1}.",
    on=On.PACKAGE,
    fix="Set 'iconBrandColor' in apiProperties.json to the icon's background colour.",
    profiles=CERTIFIED_ONLY,
    source=CHECKER_SOURCE,
    microsoft=False,
)
def icon_brand_color_mismatch(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The platform draws the icon on a tile of ``iconBrandColor``; when the icon's own
    background differs, the icon shows as a square of another colour. The solution checker's
    ``connector-validate-iconimage`` requires the icon to match the brand colour.

    A warning: the tolerance Microsoft applies is not published, and accepted icons differ
    slightly from their brand colour.
    """
    info = _decoded_png(ctx)
    brand = color_of(ctx)
    if info is None or info.background is None or brand is None or _background_problem(info) is not None:
        return
    if _distance(info.background, _rgb(brand)) > BRAND_DISTANCE:
        yield hit("", _hex(info.background), brand, file=ICON)


@rule(
    "IconLogoTooLarge",
    category=Category.ICON,
    severity=Severity.WARNING,
    message="The logo takes {0:.0%} of the icon's width and {1:.0%} of its height; keep it below 70%.",
    on=On.PACKAGE,
    fix="Leave a margin: about a 160x160 logo centred on a 230x230 background.",
    profiles=CERTIFIED_ONLY,
    source=CHECKER_SOURCE,
    microsoft=False,
)
def icon_logo_too_large(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The platform crops icons into round and rounded tiles, so the logo must keep a margin:
    its extent should stay below 70% of the icon's width and height (the solution checker's
    ``connector-validate-iconimage``; the certification guide suggests a 160x160 logo on
    230x230).

    A warning: certified icons commonly run a few percent over.
    """
    info = _decoded_png(ctx)
    if info is None or _background_problem(info) is not None:
        return
    if info.logo_width >= LOGO_MAX_SHARE or info.logo_height >= LOGO_MAX_SHARE:
        yield hit("", info.logo_width, info.logo_height, file=ICON)


@rule(
    "IconMissing",
    category=Category.ICON,
    severity=Severity.INFO,
    message="The connector has no icon.png; a certified connector needs its own icon.",
    on=On.PACKAGE,
    fix="Add a 230x230 PNG icon on your brand colour as icon.png (or submit it with the certification package).",
    profiles=CERTIFIED_ONLY,
    source=SUBMISSION_SOURCE,
    microsoft=False,
)
def icon_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """A certified connector is listed with its publisher's icon, which must be submitted for
    certification. Advice only: most certified connectors in the public repository hand the icon
    in with the certification package instead of the pull request."""
    if package.icon is None:
        yield hit("", file=ICON)


@rule(
    "IndependentPublisherIcon",
    category=Category.ICON,
    severity=Severity.ERROR,
    message="An independent publisher connector must not include an icon; the generic icon is applied.",
    on=On.PACKAGE,
    fix="Remove icon.png from the connector folder.",
    profiles=INDEPENDENT_PUBLISHER_ONLY,
    source="https://learn.microsoft.com/en-us/connectors/custom-connectors/certification-submission-ip",
    microsoft=False,
)
def independent_publisher_icon(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Independent publisher connectors all carry the same generic icon (on ``#da3b01``); the
    submission rules say not to submit one."""
    if package.icon is not None:
        yield hit("", file=ICON)


# --------------------------------------------------------------------------- readme and intro

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$")
_PUBLISHER_LINE = re.compile(r"^\s*[#*_\s]*publisher[*_\s]*:", re.IGNORECASE)


def _headings(text: str) -> list[str]:
    """Heading texts of a Markdown file, normalised (lower case, no markup), outside code."""
    found: list[str] = []
    in_code = False
    for line in text.splitlines():
        start = line.lstrip()[:3]
        if start in ("```", "~~~") and _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or not start or start[0] not in "#*_":
            continue
        match = _ATX.match(line) or _BOLD_LINE.match(line)
        if match:
            heading = re.sub(r"[*_`]", "", match.group(1)).strip().lower()
            found.append(re.sub(r"\s+", " ", heading))
    return found


def _has_auth(ctx: Context) -> bool:
    if any((p.type or "").lower() in ("securestring", "oauthsetting") for p in connection_parameters(ctx)):
        return True
    return bool(ctx.swagger.security_schemes())


Matcher = Callable[[str], bool]


def _any(*words: str) -> Matcher:
    return lambda heading: any(word in heading for word in words)


_PREREQUISITES = _any("prerequisite", "pre-requisite", "pre requisite", "requirement")
_CREDENTIALS = _any("credential", "api key", "apikey", "authenticat", "authoriz", "access token", "sign in", "sign-in")
_KNOWN_ISSUES = _any("known issue", "limitation")


@dataclass(frozen=True)
class Section:
    title: str
    matches: Matcher
    needs_auth: bool = False
    certified_only: bool = False


README_SECTIONS = (
    Section("Publisher", lambda h: h.startswith("publisher")),
    Section("Prerequisites", _PREREQUISITES),
    Section("Supported Operations", _any("operation", "action", "trigger", "supported")),
    Section("Obtaining Credentials", _CREDENTIALS, needs_auth=True),
    Section("Known Issues and Limitations", _KNOWN_ISSUES),
    Section("Deployment Instructions", _any("deploy"), certified_only=True),
)

INTRO_SECTIONS = (
    Section("Prerequisites", _PREREQUISITES),
    Section("How to get credentials", _CREDENTIALS, needs_auth=True),
    Section("Get started with your connector", _any("get started", "getting started")),
    Section("Known issues and limitations", _KNOWN_ISSUES),
    Section("Common errors and remedies", _any("error", "troubleshoot")),
    Section("FAQ", _any("faq", "frequently asked")),
)


def _missing_sections(ctx: Context, text: str, sections: tuple[Section, ...]) -> Iterator[str]:
    headings = _headings(text)
    for section in sections:
        if section.needs_auth and not _has_auth(ctx):
            continue
        if section.certified_only and ctx.profile is not Profile.CERTIFIED:
            continue
        if any(section.matches(h) for h in headings):
            continue
        if section.title == "Publisher" and any(_PUBLISHER_LINE.match(line) for line in text.splitlines()):
            continue
        yield section.title


@rule(
    "ReadmeMissing",
    category=Category.DOCS,
    severity=Severity.ERROR,
    message="The connector has no readme.md; certification requires one.",
    on=On.PACKAGE,
    fix="Add readme.md from Microsoft's template (templates/certified-connectors/readme.md in "
    "microsoft/PowerPlatformConnectors).",
    profiles=CERTIFICATION,
    source="https://github.com/microsoft/PowerPlatformConnectors/blob/8bff86eac6d04e939faee0de15298e911b118c21/"
    "templates/certified-connectors/readme.md",
    microsoft=False,
)
def readme_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The readme is the connector's documentation page in the public repository and on Learn,
    and reviewers do not accept a submission without it.

    A verified publisher submitting through ISV Studio may hand in ``intro.md`` instead, so
    under the ``certified`` profile an ``intro.md`` counts.
    """
    if package.readme is not None:
        return
    if ctx.profile is Profile.CERTIFIED and package.intro is not None:
        return
    yield hit("", file=README)


@rule(
    "ReadmeSectionMissing",
    category=Category.DOCS,
    severity=Severity.WARNING,
    message="The readme has no '{0}' section.",
    on=On.PACKAGE,
    fix="Add the section as in Microsoft's readme template: Publisher, Prerequisites, Supported Operations, "
    "Obtaining Credentials, Known Issues and Limitations (and Deployment Instructions for certified connectors).",
    profiles=CERTIFICATION,
    source="https://github.com/microsoft/PowerPlatformConnectors/blob/8bff86eac6d04e939faee0de15298e911b118c21/"
    "templates/certified-connectors/readme.md",
    microsoft=False,
)
def readme_section_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Microsoft's readme templates require the sections users look for: who publishes the
    connector, prerequisites, the supported operations, how to obtain credentials (when the
    connector signs in), known issues and limitations, and for certified connectors the
    deployment instructions.

    Headings are matched loosely (``Pre-requisites``, ``How to get credentials``, ``Supported
    Actions``), at any level. A warning: many accepted readmes deviate from the template.
    """
    if package.readme is None:
        return
    for title in _missing_sections(ctx, package.readme, README_SECTIONS):
        yield hit("", title, file=README)


@rule(
    "IntroSectionMissing",
    category=Category.DOCS,
    severity=Severity.WARNING,
    message="intro.md has no '{0}' section.",
    on=On.PACKAGE,
    fix="Add the section as in Microsoft's intro.md template: Prerequisites, How to get credentials, Get started "
    "with your connector, Known issues and limitations, Common errors and remedies, FAQ.",
    profiles=CERTIFIED_ONLY,
    source="https://learn.microsoft.com/en-us/connectors/custom-connectors/submit-for-certification",
    microsoft=False,
)
def intro_section_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``intro.md`` becomes the connector's documentation for a verified publisher's ISV Studio
    submission; Microsoft's template asks for prerequisites, how to get credentials, how to get
    started, known issues, common errors and remedies, and an FAQ."""
    if package.intro is None:
        return
    for title in _missing_sections(ctx, package.intro, INTRO_SECTIONS):
        yield hit("", title, file=INTRO)


# --------------------------------------------------------------------------- script

ALLOWED_NAMESPACES = frozenset(
    {
        "System",
        "System.Collections",
        "System.Collections.Generic",
        "System.Diagnostics",
        "System.IO",
        "System.IO.Compression",
        "System.Linq",
        "System.Net",
        "System.Net.Http",
        "System.Net.Http.Headers",
        "System.Net.Security",
        "System.Security.Authentication",
        "System.Security.Cryptography",
        "System.Text",
        "System.Text.RegularExpressions",
        "System.Threading",
        "System.Threading.Tasks",
        "System.Web",
        "System.Xml",
        "System.Xml.Linq",
        "System.Drawing",
        "System.Drawing.Drawing2D",
        "System.Drawing.Imaging",
        "Microsoft.Extensions.Logging",
        "Newtonsoft.Json",
        "Newtonsoft.Json.Linq",
    }
)

_USING = re.compile(r"^[ \t]*using[ \t]+(?!static\b)([A-Za-z_][\w.]*)[ \t]*;", re.MULTILINE)
_SCRIPT_CLASS = re.compile(r"\bclass\s+Script\s*:\s*ScriptBase\b")
_ANY_SCRIPT_CLASS = re.compile(r"\bclass\s+Script\b")
_EXECUTE = re.compile(r"\boverride\b[^;{}()]*\bExecuteAsync\s*\(")


def code_of(text: str) -> str:
    """C# source with comments and the contents of string and character literals blanked out
    (same length, newlines kept), so patterns match code only and offsets stay true."""
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/":
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif ch == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end)
            i = end
        elif ch == '"' or (ch in "@$" and nxt == '"') or (ch in "@$" and nxt in "@$" and text[i + 2 : i + 3] == '"'):
            prefix = 0
            while text[i + prefix] in "@$":
                prefix += 1
            verbatim = "@" in text[i : i + prefix]
            j = i + prefix + 1
            while j < n:
                if verbatim and text[j] == '"':
                    if text[j + 1 : j + 2] == '"':
                        j += 2
                        continue
                    break
                if not verbatim and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == '"' or (not verbatim and text[j] == "\n"):
                    break
                j += 1
            blank(i + prefix + 1, j)
            i = j + 1
        elif ch == "'":
            j = i + 1
            while j < n and text[j] != "'" and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class ScriptInfo:
    code: str
    lines: LineIndex


def script_info(ctx: Context) -> ScriptInfo | None:
    script = ctx.package.script
    if script is None:
        return None
    return ctx.memo("assets.script", lambda: ScriptInfo(code_of(script), LineIndex(script)))


@rule(
    "ScriptClassNotValid",
    category=Category.SCRIPT,
    severity=Severity.ERROR,
    message="script.csx must define 'public class Script : ScriptBase' overriding ExecuteAsync.",
    on=On.PACKAGE,
    fix="Start from Microsoft's sample: public class Script : ScriptBase { public override async "
    "Task<HttpResponseMessage> ExecuteAsync() { ... } }.",
    source=WRITE_CODE_SOURCE,
    microsoft=False,
)
def script_class_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The platform runs custom code by instantiating a class named ``Script`` that derives from
    ``ScriptBase`` and calling its ``ExecuteAsync`` override; a script without that class or
    method is rejected on upload."""
    info = script_info(ctx)
    if info is None:
        return
    found = _SCRIPT_CLASS.search(info.code)
    if found is None:
        named = _ANY_SCRIPT_CLASS.search(info.code)
        where = info.lines.position(named.start()) if named else (1, 1)
        problem = "class Script does not derive from ScriptBase" if named else "there is no class Script"
        yield hit(
            "",
            file=SCRIPT,
            position=where,
            message=f"script.csx must define 'public class Script : ScriptBase' overriding ExecuteAsync: {problem}.",
        )
    elif _EXECUTE.search(info.code, found.end()) is None:
        yield hit(
            "",
            file=SCRIPT,
            position=info.lines.position(found.start()),
            message="script.csx must define "
            "'public class Script : ScriptBase' overriding ExecuteAsync: the class has no ExecuteAsync "
            "override.",
        )


@rule(
    "ScriptNamespaceNotAllowed",
    category=Category.SCRIPT,
    severity=Severity.WARNING,
    message="script.csx uses the namespace '{0}', which custom code does not support.",
    on=On.PACKAGE,
    fix="Use only the supported namespaces (System, System.Net.Http, System.Linq, Newtonsoft.Json and the others "
    "listed on 'Write code in a custom connector').",
    source=WRITE_CODE_SOURCE,
    microsoft=False,
)
def script_namespace_not_allowed(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Custom code runs in a sandbox that offers a fixed list of namespaces (System, the
    collection, IO, LINQ, networking, cryptography, text, threading, web, XML and drawing
    namespaces, Microsoft.Extensions.Logging and Newtonsoft.Json); reviewers reject scripts that
    import others, and they may not compile on the platform.

    A warning: unused imports of other namespaces exist in accepted connectors.
    """
    info = script_info(ctx)
    if info is None:
        return
    for match in _USING.finditer(info.code):
        name = match.group(1)
        if name not in ALLOWED_NAMESPACES:
            yield hit("", name, file=SCRIPT, position=info.lines.position(match.start(1)))


@rule(
    "ScriptTooLarge",
    category=Category.SCRIPT,
    severity=Severity.ERROR,
    message="script.csx is {0} bytes; custom code must be smaller than 1 MB.",
    on=On.PACKAGE,
    fix="Move logic into the API, or trim the script below 1 MB.",
    source=WRITE_CODE_SOURCE,
    microsoft=False,
)
def script_too_large(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The platform accepts a custom-code file of less than 1 MB; a larger script is refused on
    upload."""
    if package.script is None:
        return
    size = len(package.script.encode("utf-8"))
    if size >= MAX_FILE_BYTES:
        yield hit("", size, file=SCRIPT)
