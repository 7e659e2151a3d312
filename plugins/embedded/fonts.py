"""Find the TrueType fonts this machine has, for rendering glyphs; Pillow's own font when none.

The rendered datasets depend on these fonts, so they differ between machines but never between runs
on one machine: files are read in a fixed order.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _usual_font_dirs() -> tuple[Path, ...]:
    home = Path.home()
    windows = Path(os.environ.get("WINDIR", "C:/Windows"))
    local_app_data = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    return (
        Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),          # Linux
        home / ".local" / "share" / "fonts", home / ".fonts",
        Path("/System/Library/Fonts"), Path("/Library/Fonts"),            # macOS
        home / "Library" / "Fonts",
        windows / "Fonts", local_app_data / "Microsoft" / "Windows" / "Fonts",  # Windows
    )


FONT_DIRS = _usual_font_dirs()
_SUFFIXES = {".ttf", ".otf", ".ttc"}
# These map letters and digits to pictures or formulas, which would be wrong labels.
_PICTURE_FONT_WORDS = ("symbol", "wingding", "webding", "emoji", "dingbat", "math", "icon",
                       "marlett", "braille", "ornament")


def font_files(dirs: tuple[Path, ...] = FONT_DIRS) -> list[Path]:
    """Text font files under ``dirs``, one per file name, sorted by name: a stable order."""
    by_name: dict[str, Path] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            name = path.name.lower()
            if path.suffix.lower() in _SUFFIXES and not any(w in name for w in _PICTURE_FONT_WORDS):
                by_name.setdefault(name, path)
    return [by_name[name] for name in sorted(by_name)]


@lru_cache(maxsize=None)
def glyph_fonts(chars: str, size: int, dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[Font, ...]:
    """Fonts at ``size`` that draw every one of ``chars``; Pillow's built-in font if none does."""
    loaded = (_load(path, size) for path in font_files(dirs))
    fonts = tuple(font for font in loaded if font is not None and _draws_all(font, chars))
    return fonts or (ImageFont.load_default(size=size),)


def _load(path: Path, size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # unreadable or a format FreeType does not know: just not one of ours
        return None


def _draws_all(font: ImageFont.FreeTypeFont, chars: str) -> bool:
    """True when each char has ink and no two look alike: a missing glyph draws as the same box."""
    shapes = [_shape(font, char) for char in chars]
    return all(shape is not None for shape in shapes) and len(set(shapes)) == len(shapes)


def _shape(font: ImageFont.FreeTypeFont, char: str) -> bytes | None:
    size = font.size * 2
    image = Image.new("L", (size, size))
    ImageDraw.Draw(image).text((size // 2, size // 2), char, fill=255, font=font, anchor="mm")
    box = image.getbbox()
    return image.crop(box).tobytes() if box else None
