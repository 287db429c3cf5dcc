"""Photos from the public: decoded, turned upright, shrunk and re-encoded without metadata.

A resident's photo may carry EXIF (the phone's GPS position, its make, the
time) and anything else a file can hide. :func:`reencode_photo` decodes the
pixels with Pillow and writes a fresh JPEG of them alone: nothing of the
original file survives but the picture.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_SIDE = 2048
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85


def reencode_photo(data: bytes) -> bytes:
    """A JPEG of the picture in ``data`` (JPEG, PNG or WebP) without any metadata.

    The picture is turned upright by its EXIF orientation first, and shrunk
    to at most :data:`MAX_SIDE` pixels on its longer side.

    Raises
    ------
    ValueError
        Not a picture of an accepted format, or too many pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise ValueError(f"照片必须是 JPEG、PNG 或 WebP 图片 (got {image.format})")
                if image.width * image.height > MAX_PIXELS:
                    raise ValueError("照片像素过多 (the picture has too many pixels)")
                image.load()
                upright = ImageOps.exif_transpose(image)
                picture = upright.convert("RGB")
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise ValueError("无法识别的图片 (not a readable picture)") from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    clean = Image.new("RGB", picture.size)
    clean.paste(picture)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
