"""Whether the browser has a real glyph for a character, or would draw the "missing" box (tofu).

Each character is drawn on a canvas in the element's own font stack and compared with a drawing of
characters from Unicode's last private-use plane, which no font covers: a character that draws
exactly like those has no glyph on this machine (no CJK or emoji font installed).
"""
from __future__ import annotations

_DRAWN_LIKE_MISSING_JS = """([selector, chars]) => {
  const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
  const g = canvas.getContext('2d');
  g.font = `40px ${getComputedStyle(document.querySelector(selector)).fontFamily}`;
  const draw = ch => { g.clearRect(0, 0, 64, 64); g.fillText(ch, 4, 48); return g.getImageData(0, 0, 64, 64).data.join(','); };
  const missing = draw('\\u{10FFFD}');
  if (draw('\\u{10FFFC}') !== missing) throw new Error('missing glyphs do not draw alike: cannot tell');
  return chars.filter(ch => draw(ch) === missing);
}"""


def missing_glyphs(page, selector: str, text: str) -> list[str]:
    """The characters of `text` that the element at `selector` would show as boxes."""
    chars = sorted({ch for ch in text if not ch.isspace()})
    return page.evaluate(_DRAWN_LIKE_MISSING_JS, [selector, chars])
