"""The installed font matplotlib draws Chinese text with.

matplotlib renders CJK only with a font that has the glyphs; :func:`cjk_font`
finds one among the installed fonts (Noto Sans CJK SC from Debian's
``fonts-noto-cjk`` first) and fails with a clear message when there is none,
rather than drawing boxes.
"""

from __future__ import annotations

#: preferred CJK families, best first (Simplified Chinese forms first)
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)
PROBE = "网格热点冷点事件率"


class FontNotFoundError(RuntimeError):
    """No installed font can draw Chinese text."""


def cjk_font():
    """The installed CJK font matplotlib should use, as a ``FontProperties``.

    Raises
    ------
    FontNotFoundError
        When no installed font has glyphs for Chinese text (install
        ``fonts-noto-cjk`` on Debian/Ubuntu).
    """
    from matplotlib import font_manager

    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family not in names:
            continue
        # by family, not file: a .ttc collection then opens at this family's face (SC, not JP)
        props = font_manager.FontProperties(family=family)
        path = font_manager.findfont(props, fallback_to_default=False)
        if has_glyphs(path, PROBE):
            return props
    raise FontNotFoundError(
        "no installed font can draw Chinese text (tried "
        + ", ".join(CJK_FAMILIES)
        + "); install one, e.g. `apt-get install fonts-noto-cjk`"
    )


def has_glyphs(path: str, text: str) -> bool:
    """Whether the font file at ``path`` has a glyph for every character of ``text``."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(path))
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())
