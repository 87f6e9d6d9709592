"""The series' cover: `cover:` from program.yaml, or a square image made from the series' title.

Podcast directories want a square image of at least 1400 x 1400 pixels; the same image goes
into every MP3 (APIC), the feed and the web player. A coach's cover is judged before any of that
(`cover_problems`, for `check`, `build` and `publish` alike): an image Pillow reads whole, of at most
MAX_SIDE pixels a side (inside the routines folder: config/load.py); a small or oblong one is a warning. A made cover
is kept in the cache, named by a hash of what it shows, so it is drawn once and a new title makes a new
image. Beside it is a digest of its bytes, verified whenever it is used: a damaged or cut entry is drawn
again, never used.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from cuecoach import system
from cuecoach.config.project import PROGRAM_FILE, Project, shown
from cuecoach.config.schema import Problems, Program
from cuecoach.errors import Where

if TYPE_CHECKING:  # for annotations only: Pillow loads when a cover is drawn
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

SIDE = 1400  # pixels: the smallest square Apple Podcasts and Spotify accept
MAX_SIDE = 3000  # pixels: the largest Apple Podcasts takes; the image goes into every MP3 too
MAX_BYTES = 10_000_000  # a cover that goes into every MP3: a 3000 x 3000 JPEG is about 2 MB
COVER_FORMATS = ("JPEG", "PNG")
MARGIN = 120
BACKGROUND = (24, 61, 78)  # deep teal: white text on it reads well at thumbnail size
ACCENT = (242, 166, 90)
INK = (255, 255, 255)
MUTED = (190, 214, 222)
FONT_FILES = ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/System/Library/Fonts/Supplemental/Arial Bold.ttf", "arialbd.ttf")
DRAWING = "1"  # bump when the drawing changes, so a cached cover is redrawn
ENTRY_FORMAT = "2"  # bump when the cache entry changes (2: a digest beside the image), so old ones are not read


def cover_path(project: Project, program: Program) -> Path:
    """The cover image to use: the one program.yaml names, or the made one (drawn now if needed)."""
    if program.cover:
        return project.routines / program.cover
    key = hashlib.sha256(f"{ENTRY_FORMAT}\0{DRAWING}\0{program.title}\0{program.author}".encode()).hexdigest()[:16]
    target = project.cache / "covers" / f"cover-{key}.jpg"
    check = target.with_name(f"{target.name}.digest")
    if not _whole(target, check):
        image = make_cover(program.title, program.author)
        system.write_atomic(target, image)
        system.write_atomic(check, _digest(image))  # after the image: a cover without it is drawn again
    return target


def cover_problems(project: Project, program: Program) -> tuple[Problems, Problems]:
    """(problems, warnings) of the cover program.yaml names, at its line: not an image read whole, or too
    large; small or oblong is a warning (load.py refuses one outside the routines folder, or missing). Reads
    only the header before the size is known, so a huge image is never decoded."""
    if not program.cover:
        return [], []
    where = program.where.get("cover") or Where(shown(project.routines / PROGRAM_FILE))
    named = f"'cover' names {program.cover}"
    path = project.routines / program.cover
    if not path.is_file() or not path.resolve().is_relative_to(project.routines.resolve()):
        return [], []  # load.py reports it at the same line
    if path.stat().st_size > MAX_BYTES:
        return [(where, f"{named}, which is over {MAX_BYTES // 1_000_000} MB; save it smaller (a JPEG of "
                        f"{SIDE} x {SIDE})")], []
    size, wrong = _read_image(path)
    if wrong:
        return [(where, f"{named}, {wrong}")], []
    if size[0] != size[1] or size[0] < SIDE:
        return [], [(where, f"warning: the cover is {size[0]} x {size[1]}; podcast apps want a square image of "
                            f"at least {SIDE} x {SIDE}")]
    return [], []


def _read_image(path: Path) -> tuple[tuple[int, int], str]:
    """An image's size, and what is wrong with it ("" if nothing): not an image, too large, or damaged."""
    from PIL import Image

    fix = f"; give a .jpg or .png image of {SIDE} x {SIDE} to {MAX_SIDE} x {MAX_SIDE}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is judged below
            with Image.open(path) as image:  # the header only
                size = image.size
                if image.format not in COVER_FORMATS:
                    return size, f"which is a {image.format} image, not a JPEG or PNG{fix}"
                if max(size) > MAX_SIDE:
                    return size, f"which is {size[0]} x {size[1]} pixels, larger than podcast apps take{fix}"
                image.load()  # decoded whole: a cut or damaged file shows here
    except Image.DecompressionBombError:  # Pillow's own guard, far above MAX_SIDE: refused by its header
        return (0, 0), f"which is far larger than podcast apps take{fix}"
    except (OSError, SyntaxError, ValueError) as exc:  # UnidentifiedImageError is an OSError
        reason = "not an image" if isinstance(exc, Image.UnidentifiedImageError) else "a damaged image"
        return (0, 0), f"which is {reason}{fix}"
    return size, ""


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _whole(target: Path, check: Path) -> bool:
    """Whether a cached cover is as it was written: its bytes match the digest beside it."""
    try:
        return _digest(target.read_bytes()) == check.read_text().strip()
    except (OSError, ValueError):
        return False


def _font(size: int) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)  # Pillow's own font: any machine can draw a cover


def _title_lines(draw: ImageDraw, title: str, width: int) -> tuple[FreeTypeFont | ImageFont, int, list[str]]:
    """The largest type at which the title fits in at most four lines."""
    for size in range(150, 40, -10):
        font = _font(size)
        per_line = max(4, int(width / (size * 0.58)))
        lines = textwrap.wrap(title, per_line) or [title]
        if len(lines) <= 4 and all(draw.textlength(line, font=font) <= width for line in lines):
            return font, size, lines
    return _font(40), 40, textwrap.wrap(title, 40)[:6]


def make_cover(title: str, author: str) -> bytes:
    """A JPEG: the title in large white type over a dark field, an accent bar, the author below."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (SIDE, SIDE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIDE - 2 * MARGIN
    draw.rectangle((MARGIN, MARGIN, MARGIN + 220, MARGIN + 24), fill=ACCENT)
    font, size, lines = _title_lines(draw, title, width)
    leading = int(size * 1.18)
    top = (SIDE - leading * len(lines)) // 2 - 40
    for number, line in enumerate(lines):
        draw.text((MARGIN, top + number * leading), line, font=font, fill=INK)
    small = _font(64)
    draw.text((MARGIN, SIDE - MARGIN - 64), author, font=small, fill=MUTED)
    # a quiet motif: a rising arc, like a spine straightening
    draw.arc((SIDE - MARGIN - 300, MARGIN - 40, SIDE - MARGIN + 100, MARGIN + 360), 180, 300, fill=ACCENT, width=18)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()
