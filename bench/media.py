"""Throughput of the media pipeline and the file server: upload normalization, resizes, and
getFile's resized copies made anew (uncached) or served from storage (cached).

    python bench/media.py [--seconds 1.5]

Photo-like test images (gradients under blurred noise) are generated in memory at 1024 and 2048
pixels a side, as JPEG and PNG. Each case runs for about ``--seconds`` (at least twice) on one core.
The getFile cases call the file server's ``get_variant`` (what the view calls, without the row
lookup and HTTP) on a file-system storage in a temporary folder, and read the served bytes.
"""

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

import PIL  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import FileSystemStorage  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from apps.core.media import (  # noqa: E402
    FILE_SERVER_IMAGE,
    MIME_TYPES,
    PROFILE_PICTURE,
    checksum,
    process_image,
    resize,
)
from apps.core.models import FileObject  # noqa: E402
from apps.core.services import files  # noqa: E402

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

    folder = tempfile.TemporaryDirectory(prefix="atelier-bench-")
    storage = FileSystemStorage(location=folder.name)
    for (side, fmt), data in sources.items():
        file = stored_file(storage, data, fmt, side)
        box = {"width": 256, "height": 256, "mode": "fit"}
        variant = files.variant_name(file=file, **box)
        source = f"{side}px {fmt} ({len(data) / 1024:,.0f} KiB)"

        def uncached(file=file, box=box, variant=variant):
            storage.delete(variant)
            serve(files.get_variant(file=file, storage=storage, **box))

        def cached(file=file, box=box):
            serve(files.get_variant(file=file, storage=storage, **box))

        cases.append(("getFile new", source, f"256x256 {fmt}", uncached))
        cases.append(("getFile kept", source, f"256x256 {fmt}", cached))
        cached()  # the kept case starts with the copy in storage

    header = f"{'operation':<12} {'input':<26} {'output':<16} {'runs':>5} {'ms/image':>9} {'images/s':>9}"
    print(header)
    print("-" * len(header))
    for operation, source, output, work in cases:
        runs, elapsed = measure(work, args.seconds)
        per_image = elapsed / runs
        print(f"{operation:<12} {source:<26} {output:<16} {runs:>5} {per_image * 1000:>9.2f} {1 / per_image:>9.1f}")
    folder.cleanup()


def stored_file(storage, data: bytes, fmt: str, side: int) -> FileObject:
    """An uploaded file as getFile sees it: bytes in storage and the row that describes them (the
    row is not saved: no database is needed)."""
    file_id = f"bench-{side}-{fmt.lower()}"
    name = storage.save(files.storage_name_for(file_id), ContentFile(data))
    return FileObject(
        id=file_id,
        file_name=f"{file_id}.{fmt.lower()}",
        content_type=MIME_TYPES[fmt],
        size=len(data),
        checksum=checksum(data),
        storage_name=name,
    )


def serve(served) -> int:
    """Read the served bytes to the end, as the response would."""
    with served.stream as stream:
        return len(stream.read())


if __name__ == "__main__":
    main()
