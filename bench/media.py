"""Throughput of the media pipeline: upload normalization and uncached resizes.

    python bench/media.py [--seconds 1.5]

Photo-like test images (gradients under blurred noise) are generated in memory at 1024 and 2048
pixels a side, as JPEG and PNG. Each case runs for about ``--seconds`` (at least twice) on one core.
"""

import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

import PIL  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from apps.core.media import FILE_SERVER_IMAGE, PROFILE_PICTURE, process_image, resize  # noqa: E402

SIDES = (1024, 2048)
FORMATS = ("JPEG", "PNG")


def photo_like(side: int) -> Image.Image:
    size = (side, side)
    gradient = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    grain = Image.effect_noise(size, 48).filter(ImageFilter.GaussianBlur(1.2))
    channels = (
        Image.blend(gradient, grain, 0.35),
        Image.blend(radial, grain, 0.3),
        Image.blend(gradient.transpose(Image.Transpose.ROTATE_90), grain, 0.4),
    )
    return Image.merge("RGB", channels)


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def measure(work, seconds: float) -> tuple[int, float]:
    runs, started = 0, time.perf_counter()
    while True:
        work()
        runs += 1
        elapsed = time.perf_counter() - started
        if runs >= 2 and elapsed >= seconds:
            return runs, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time spent on each case (default 1.5)")
    args = parser.parse_args()

    print(f"Pillow {PIL.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs (one used)")
    sources = {}
    for side in SIDES:
        image = photo_like(side)
        for fmt in FORMATS:
            sources[(side, fmt)] = encoded(image, fmt)

    cases = []
    for (side, fmt), data in sources.items():
        for policy, output in ((FILE_SERVER_IMAGE, f"{fmt} kept"), (PROFILE_PICTURE, "WEBP, 1024 max")):
            cases.append(
                (
                    "normalize",
                    f"{side}px {fmt} ({len(data) / 1024:,.0f} KiB)",
                    output,
                    lambda data=data, policy=policy: process_image(data, policy=policy),
                )
            )
    for (side, fmt), data in sources.items():
        stored = process_image(data, policy=FILE_SERVER_IMAGE).content
        for mode in ("fit", "fill"):
            cases.append(
                (
                    f"resize {mode}",
                    f"{side}px {fmt} ({len(stored) / 1024:,.0f} KiB)",
                    f"256x256 {fmt}",
                    lambda stored=stored, mode=mode: resize(stored, width=256, height=256, mode=mode),
                )
            )

    header = f"{'operation':<12} {'input':<26} {'output':<16} {'runs':>5} {'ms/image':>9} {'images/s':>9}"
    print(header)
    print("-" * len(header))
    for operation, source, output, work in cases:
        runs, elapsed = measure(work, args.seconds)
        per_image = elapsed / runs
        print(f"{operation:<12} {source:<26} {output:<16} {runs:>5} {per_image * 1000:>9.1f} {1 / per_image:>9.1f}")


if __name__ == "__main__":
    main()
