"""Burned-in Chinese text on video frames: Pillow renders, numpy blends.

``cv2.putText`` has no CJK glyphs, so text is drawn with Pillow in a CJK font
(Debian's ``fonts-wqy-microhei``). Rendering costs about a millisecond, so a
text patch is rendered only when its text changes and alpha-blended onto every
frame (under 1 ms for a 704×576 frame, stack-notes §5).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


class FontMissing(RuntimeError):
    """No CJK font is installed; the message says which package provides one."""


@functools.cache
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    candidates = [os.environ["EXAMROOM_CJK_FONT"]] if os.environ.get("EXAMROOM_CJK_FONT") else list(FONT_PATHS)
    for path in candidates:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise FontMissing("no CJK font found (tried " + ", ".join(candidates) +
                      "); install the Debian package fonts-wqy-microhei")


class TextPatch:
    """Lines of text on a translucent panel, re-rendered only when the text changes."""

    def __init__(self, size: int = 18, padding: int = 6) -> None:
        self.font = cjk_font(size)
        self.size = size
        self.padding = padding
        self._text: tuple[str, ...] | None = None
        self._rgb: np.ndarray | None = None
        self._alpha: np.ndarray | None = None
        self.renders = 0

    def _render(self, lines: tuple[str, ...]) -> None:
        line_height = self.size + 4
        width = max((int(self.font.getlength(line)) for line in lines), default=0) + 2 * self.padding
        height = line_height * len(lines) + 2 * self.padding
        panel = Image.new("RGBA", (max(width, 1), max(height, 1)), (0, 0, 0, 140))
        draw = ImageDraw.Draw(panel)
        for i, line in enumerate(lines):
            colour = (255, 90, 90, 255) if line.startswith(("扣", "不合格")) else (255, 255, 255, 255)
            draw.text((self.padding, self.padding + i * line_height), line, font=self.font, fill=colour)
        rgba = np.asarray(panel)
        self._rgb = rgba[..., 2::-1].astype(np.float32)  # RGB -> BGR
        self._alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        self.renders += 1

    def draw(self, image: np.ndarray, lines: list[str], x: int, y: int) -> None:
        """Blend the panel for ``lines`` onto a BGR image at (x, y), clipped to the image."""
        text = tuple(lines)
        if text != self._text:
            self._render(text)
            self._text = text
        h = min(self._rgb.shape[0], image.shape[0] - y)
        w = min(self._rgb.shape[1], image.shape[1] - x)
        if h <= 0 or w <= 0:
            return
        region = image[y:y + h, x:x + w].astype(np.float32)
        alpha = self._alpha[:h, :w]
        image[y:y + h, x:x + w] = (self._rgb[:h, :w] * alpha + region * (1 - alpha)).astype(np.uint8)
