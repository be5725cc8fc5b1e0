"""The embedded default provider: pictures drawn with Pillow, no model weights, no server.

A picture is a function of its inputs only: the same prompt, negative prompt, seed, subseed, subseed
strength, size, steps, CFG scale, sampler and face-fix setting always give the same pixels, and
different prompts give visibly different pictures (the prompt chooses the palette, and each word of
it a shape). The seed places the shapes; the subseed moves them towards another arrangement as its
strength grows (a "variation"). Steps add detail, the CFG scale sets contrast and saturation, the
sampler the grain, face fix smooths. A video is a loop of frames in which the shapes orbit, stored
as an animated WebP plus its frames.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from .base import (
    GeneratedOutput,
    GenerationRequest,
    GenerationResult,
    ProgressCallback,
    Provider,
    ProviderError,
    estimated_runtime,
)

MAX_SIDE = 4096
MAX_WORD_SHAPES = 24
_WORD = re.compile(r"\w+", re.UNICODE)
_SHAPES = ("ellipse", "rectangle", "triangle", "ring", "rays", "diamond")


def _digest(*parts) -> int:
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _rng(*parts) -> random.Random:
    return random.Random(_digest(*parts))  # noqa: S311 - pictures, not secrets


def _colour(rng: random.Random, *, light: float | None = None) -> tuple[int, int, int]:
    import colorsys

    hue = rng.random()
    lightness = light if light is not None else 0.35 + rng.random() * 0.35
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.55 + rng.random() * 0.4)
    return int(red * 255), int(green * 255), int(blue * 255)


def _mix(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


class _Layout:
    """Where each shape of one picture goes: the seed's arrangement blended towards the subseed's."""

    def __init__(self, request: GenerationRequest, seed: int, subseed: int):
        self.seed_rng = _rng("seed", seed)
        self.sub_rng = _rng("subseed", subseed)
        self.strength = min(max(float(request.subseed_strength), 0.0), 1.0)

    def value(self) -> float:
        return _mix(self.seed_rng.random(), self.sub_rng.random(), self.strength)


def _background(width: int, height: int, top, bottom, angle: float) -> Image.Image:
    gradient = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
    gradient = gradient.resize((width, height), Image.Resampling.BILINEAR)
    return Image.merge(
        "RGB",
        [
            gradient.point(lambda v, lo=lo, hi=hi: int(lo + (hi - lo) * v / 255))
            for lo, hi in zip(top, bottom, strict=True)
        ],
    )


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, box, colour, outline, width: int) -> None:
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if kind == "ellipse":
        draw.ellipse(box, fill=colour, outline=outline, width=width)
    elif kind == "rectangle":
        draw.rounded_rectangle(box, radius=min(x1 - x0, y1 - y0) / 6, fill=colour, outline=outline, width=width)
    elif kind == "triangle":
        draw.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=colour, outline=outline)
    elif kind == "ring":
        draw.ellipse(box, outline=colour, width=max(2, int((x1 - x0) / 8)))
    elif kind == "rays":
        for index in range(9):
            angle = index * math.pi / 9
            dx, dy = math.cos(angle) * (x1 - x0) / 2, math.sin(angle) * (y1 - y0) / 2
            draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=colour, width=max(1, width))
    else:  # diamond
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=colour, outline=outline)


def render(request: GenerationRequest, *, seed: int, subseed: int, phase: float = 0.0) -> Image.Image:
    """One picture (``phase`` in [0, 1) moves the shapes along their orbits, for video frames)."""
    width, height = int(request.width), int(request.height)
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ProviderError(f"The procedural provider draws at most {MAX_SIDE}x{MAX_SIDE} pixels.")
    prompt_rng = _rng("prompt", request.prompt)
    palette = [_colour(prompt_rng) for _ in range(5)]
    negative_rng = _rng("negative", request.negative_prompt)
    top = _colour(negative_rng, light=0.12 + prompt_rng.random() * 0.2)
    bottom = palette[0]
    layout = _Layout(request, seed, subseed)
    image = _background(width, height, top, bottom, angle=layout.value() * 360)
    draw = ImageDraw.Draw(image, "RGBA")
    scale = min(width, height)

    # One shape per word of the prompt: the word chooses the shape and its colour.
    words = _WORD.findall(request.prompt.casefold())[:MAX_WORD_SHAPES] or ["empty"]
    for index, word in enumerate(words):
        word_rng = _rng("word", word, index)
        kind = _SHAPES[word_rng.randrange(len(_SHAPES))]
        colour = (*palette[word_rng.randrange(len(palette))], 150 + word_rng.randrange(100))
        size = scale * (0.12 + 0.3 * layout.value())
        orbit = scale * 0.08 * layout.value()
        angle = 2 * math.pi * (phase + layout.value())
        cx = width * (0.1 + 0.8 * layout.value()) + orbit * math.cos(angle)
        cy = height * (0.1 + 0.8 * layout.value()) + orbit * math.sin(angle)
        box = (cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2)
        _draw_shape(draw, kind, box, colour, outline=(255, 255, 255, 90), width=max(1, scale // 200))

    # Each step adds a little detail.
    grain = _rng("sampler", request.sampler)
    dot = max(1, scale // 160) * (1 + grain.randrange(3))
    for step in range(max(1, int(request.steps))):
        for _ in range(6):
            x, y = layout.value() * width, layout.value() * height
            colour = (*palette[(step + grain.randrange(5)) % len(palette)], 60 + int(120 * layout.value()))
            draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=colour)

    cfg = float(request.cfg_scale)
    image = ImageEnhance.Contrast(image).enhance(0.7 + cfg / 12 * 0.7)
    image = ImageEnhance.Color(image).enhance(0.6 + cfg / 12 * 0.9)
    if request.restore_faces:
        image = image.filter(ImageFilter.SMOOTH_MORE)
    _caption(image, request.prompt, scale)
    return image


def _caption(image: Image.Image, prompt: str, scale: int) -> None:
    text = " ".join(prompt.split())
    if not text:
        return
    size = max(10, scale // 36)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image, "RGBA")
    limit = max(8, int(image.width / (size * 0.55)))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    margin = size // 2
    y = image.height - size - margin * 2
    draw.rectangle((0, y, image.width, image.height), fill=(0, 0, 0, 110))
    draw.text((margin, y + margin // 2), text, font=font, fill=(255, 255, 255, 230))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _animated_webp(frames: list[Image.Image], duration_ms: int) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "WEBP", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0, quality=85, method=2
    )
    return buffer.getvalue()


class ProceduralProvider(Provider):
    name = "procedural"

    def generate(self, request: GenerationRequest, *, progress: ProgressCallback | None = None) -> GenerationResult:
        outputs = []
        seeds, subseeds = [], []
        total = max(1, request.batch_size)
        for index in range(total):
            seed, subseed = request.seed + index, request.subseed + index
            seeds.append(seed)
            subseeds.append(subseed)
            if request.media == "video":
                outputs.append(self._video(request, seed, subseed))
            else:
                image = render(request, seed=seed, subseed=subseed)
                outputs.append(GeneratedOutput(_png(image), "image/png", image.width, image.height))
            if progress is not None:
                progress((index + 1) / total, f"image {index + 1} of {total} drawn")
        return GenerationResult(outputs=outputs, info={"all_seeds": seeds, "all_subseeds": subseeds})

    def _video(self, request: GenerationRequest, seed: int, subseed: int) -> GeneratedOutput:
        count = max(2, int(request.frame_count or 8))
        frames = [render(request, seed=seed, subseed=subseed, phase=index / count) for index in range(count)]
        duration = int(self.config.get("frame_duration_ms", 125))
        return GeneratedOutput(
            data=_animated_webp(frames, duration),
            content_type="image/webp",
            width=frames[0].width,
            height=frames[0].height,
            frames=[_png(frame) for frame in frames],
        )

    def expected_runtime(self, request: GenerationRequest) -> float:
        return estimated_runtime(self.config, request)
