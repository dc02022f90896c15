"""Seeded defects for the icon, readme, intro and script rules."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from tests.lint.harness import Files, Seed

from connectorkit.lint.registry import Profile

CLEAN_CERTIFIED = "certified-connectors/1Me Corporate"
CERTIFIED_WITH_ICON = "certified-connectors/emailDomainChecker"  # iconBrandColor #dddddd
CLEAN_INDEPENDENT = "independent-publisher-connectors/Abstract IBAN Validator"

Color = tuple[int, ...]


def png(
    size: tuple[int, int] = (230, 230),
    background: Color = (221, 221, 221),
    logo: tuple[int, int, int, int] | None = (60, 60, 170, 170),
    fmt: str = "PNG",
) -> bytes:
    """An icon: a background with a dark square logo in the given box."""
    from PIL import Image, ImageDraw

    mode = "RGBA" if len(background) == 4 else "RGB"
    image = Image.new(mode, size, background)  # type: ignore[arg-type]
    if logo is not None:
        ImageDraw.Draw(image).rectangle(logo, fill=(40, 20, 60, 255) if mode == "RGBA" else (40, 20, 60))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is large."""
    from PIL import Image

    data = random.Random(0).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), data).save(out, "PNG")
    return out.getvalue()


def _icon(data: bytes | None) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.icon = data

    return mutate


def _readme(text: str | None) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.readme = text

    return mutate


def _drop_readme_heading(heading: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        assert f.readme is not None and heading in f.readme
        f.readme = f.readme.replace(heading, "")

    return mutate


INTRO_WITHOUT_FAQ = """Manage your corporate contact cards.

## Prerequisites

A 1Me corporate account.

## How to get credentials

Request an API key from 1Me support.

## Get started with your connector

Create a connection with your API key and add an action to a flow.

## Known issues and limitations

None known.

## Common errors and remedies

401: the API key is wrong; create the connection again.
"""


def _intro(text: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.intro = text

    return mutate


SCRIPT = """using System;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

public class Script : ScriptBase
{
    // Adds a header, then forwards the request ("using System.Data;" in a string is not code).
    public override async Task<HttpResponseMessage> ExecuteAsync()
    {
        this.Context.Request.Headers.Add("X-Shop", "pets");
        return await this.Context.SendAsync(this.Context.Request, this.CancellationToken).ConfigureAwait(false);
    }
}
"""


def _script(text: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.script = text

    return mutate


SEEDS = [
    Seed("IconNotPng", _icon(png(fmt="JPEG")), ("",)),
    Seed("IconNotPng", _icon(b"\x89PNG\r\n\x1a\nnot really"), ("",), note="unreadable"),
    Seed("IconTooLarge", _icon(noise_png(620)), ("",)),
    Seed(
        "IconSizeNotValid",
        _icon(png((240, 240), logo=(70, 70, 170, 170))),
        ("",),
        base=CERTIFIED_WITH_ICON,
        profile=Profile.CERTIFIED,
    ),
    Seed(
        "IconBackgroundNotValid",
        _icon(png(background=(221, 221, 221, 0))),
        ("",),
        base=CERTIFIED_WITH_ICON,
        profile=Profile.CERTIFIED,
    ),
    Seed(
        "IconBackgroundNotValid",
        _icon(png(background=(0, 126, 229))),
        ("",),
        base=CERTIFIED_WITH_ICON,
        profile=Profile.CERTIFIED,
        note="default-blue",
    ),
    Seed(
        "IconBrandColorMismatch",
        _icon(png(background=(200, 30, 30))),
        ("",),
        base=CERTIFIED_WITH_ICON,
        profile=Profile.CERTIFIED,
    ),
    Seed(
        "IconLogoTooLarge",
        _icon(png(logo=(20, 30, 200, 190))),
        ("",),
        base=CERTIFIED_WITH_ICON,
        profile=Profile.CERTIFIED,
    ),
    Seed("IconMissing", _icon(None), ("",), base=CERTIFIED_WITH_ICON, profile=Profile.CERTIFIED),
    Seed(
        "IndependentPublisherIcon",
        _icon(png(background=(218, 59, 1))),
        ("",),
        base=CLEAN_INDEPENDENT,
        profile=Profile.INDEPENDENT_PUBLISHER,
    ),
    Seed("ReadmeMissing", _readme(None), ("",), base=CLEAN_CERTIFIED, profile=Profile.CERTIFIED),
    Seed(
        "ReadmeSectionMissing",
        _drop_readme_heading("## Known Issues and Limitations"),
        ("",),
        base=CLEAN_CERTIFIED,
        profile=Profile.CERTIFIED,
    ),
    Seed("IntroSectionMissing", _intro(INTRO_WITHOUT_FAQ), ("",), base=CLEAN_CERTIFIED, profile=Profile.CERTIFIED),
    Seed("ScriptClassNotValid", _script(SCRIPT.replace(": ScriptBase", "")), ("",)),
    Seed("ScriptNamespaceNotAllowed", _script("using System.Data;\n" + SCRIPT), ("",)),
    Seed("ScriptTooLarge", _script(SCRIPT + "// " + "padding " * 140_000 + "\n"), ("",)),
]
