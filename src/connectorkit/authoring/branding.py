"""Icon and brand colour: checked against certification's rules, or generated."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from connectorkit.errors import InputError

ICON_MIN = 100
ICON_MAX = 230
GENERATED_SIZE = 230
# Certification refuses white (an invisible tile) and the portal's default blue.
REFUSED_COLORS = {
    "#ffffff": "white makes the icon tile invisible on Power Platform's white background",
    "#007ee5": "it is the portal's default connector colour, which certification asks to replace with your brand's",
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_PALETTE = (
    "#da3b01",
    "#0f6cbd",
    "#107c10",
    "#5c2e91",
    "#b4009e",
    "#c50f1f",
    "#038387",
    "#8e562e",
    "#4f6bed",
    "#ca5010",
)


def check_brand_color(value: str) -> str:
    """Return the colour as lowercase ``#rrggbb`` or raise an :class:`InputError` saying why not."""
    if not _HEX.match(value):
        raise InputError(f"--brand-color {value!r}: expected a colour as #RRGGBB, for example #da3b01")
    color = value.lower()
    reason = REFUSED_COLORS.get(color)
    if reason:
        raise InputError(f"--brand-color {value}: certification refuses this colour because {reason}")
    return color


def default_brand_color(name: str) -> str:
    """A stable colour picked from the connector's name, never one certification refuses."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def check_icon(path: Path) -> bytes:
    """Read an icon file and check it is a square PNG of 100 to 230 pixels."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"--icon {path}: file not found") from None
    except OSError as exc:
        raise InputError(f"--icon {path}: cannot read: {exc.strerror}") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise InputError(f"--icon {path}: not an image; expected a PNG file") from None
    if kind != "PNG":
        raise InputError(f"--icon {path}: is {kind}, expected PNG")
    if width != height:
        raise InputError(f"--icon {path}: is {width}x{height}; the icon must be square")
    if not ICON_MIN <= width <= ICON_MAX:
        raise InputError(
            f"--icon {path}: is {width}x{height}; expected between {ICON_MIN} and {ICON_MAX} pixels a side"
        )
    return data


def initials(name: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+|(?<=[a-z])(?=[A-Z])", name) if w]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][0].upper()
    return (words[0][0] + words[1][0]).upper()


def _text_color(background: str) -> tuple[int, int, int]:
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (0, 0, 0) if luminance > 160 else (255, 255, 255)


def generate_icon(name: str, color: str, size: int = GENERATED_SIZE) -> bytes:
    """A square PNG on the brand colour with the connector's initials centred."""
    image = Image.new("RGB", (size, size), color)
    draw = ImageDraw.Draw(image)
    text = initials(name)
    font = ImageFont.load_default(size=int(size * (0.42 if len(text) > 1 else 0.5)))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (size - (right - left)) / 2 - left
    y = (size - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=_text_color(color), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
