"""ZIP ingestion throughput of subject uploads: images per second for a 200-image archive.

    DATABASE_URL=postgres://USER@HOST:5432/atelier_bench_subjects \\
        python bench/subjects.py [--images 200] [--side 1024] [--runs 3]

The database must be one of its own (it is migrated; a bench user, its shot types and subjects are
added to it). Media go to a temporary folder on the local file system, removed at the end.

The archive holds ``--images`` photo-like JPEGs (gradients under blurred noise) of ``--side`` pixels
by 4/3 of that: half in ``portfolio/`` (at most the 100 a portfolio holds), the others named after
shot types (base images). Each run
uploads it to a new subject as the API does (``ingest.read_metadata`` checks the archive,
``ingest.start_upload`` stores it and creates the task) and then runs the worker's code
(``ingest.run_upload``) in this process, on one core: every image is read from the archive, sniffed,
decoded, re-encoded without metadata, measured, thumbnailed and stored, and the task row updated.
Reported: the media pipeline alone on a sample of the images (the floor of the cost), the worker's
time and images/s per run, and the median.
"""

import argparse
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200, help="images in the archive (default 200)")
    parser.add_argument("--side", type=int, default=1024, help="image width in pixels (default 1024)")
    parser.add_argument("--runs", type=int, default=3, help="uploads to time (default 3)")
    parser.add_argument("--sample", type=int, default=20, help="images to time the media pipeline on (default 20)")
    return parser.parse_args()


ARGS = _arguments()
TEMP = Path(tempfile.mkdtemp(prefix="atelier-bench-subjects-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["MEDIA_ROOT"] = str(TEMP / "media")
os.environ["ATELIER_VAR_DIR"] = str(TEMP / "var")
os.environ["CELERY_BROKER_URL"] = "memory://"  # the bench runs the worker's code itself
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("Set DATABASE_URL to a PostgreSQL database of the bench's own.")

import django  # noqa: E402

django.setup()

import PIL  # noqa: E402
from django.core.files.uploadedfile import TemporaryUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.core.domains import default_domain  # noqa: E402
from apps.core.media import STUDIO_MEDIA, process_image  # noqa: E402
from apps.guidelines.models import ShotType  # noqa: E402
from apps.subjects import ingest, services  # noqa: E402
from apps.subjects.models import MAX_PORTFOLIO_IMAGES  # noqa: E402

PORTFOLIO_IMAGES = min(ARGS.images // 2, MAX_PORTFOLIO_IMAGES)
BASE_IMAGES = ARGS.images - PORTFOLIO_IMAGES
EMAIL = "bench-subjects@bench.atelier.invalid"


def photo_like(width: int, height: int, seed: int) -> bytes:
    size = (width, height)
    gradient = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    grain = Image.effect_noise(size, 40 + seed % 16).filter(ImageFilter.GaussianBlur(1.2))
    image = Image.merge(
        "RGB",
        (
            Image.blend(gradient, grain, 0.35),
            Image.blend(radial, grain, 0.3),
            Image.blend(gradient.transpose(Image.Transpose.ROTATE_180), grain, 0.4),
        ),
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def build_archive(path: Path, shot_names: list[str]) -> tuple[int, int]:
    width, height = ARGS.side, ARGS.side * 4 // 3
    total = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index in range(ARGS.images):
            content = photo_like(width, height, index)
            total += len(content)
            if index < BASE_IMAGES:
                archive.writestr(f"{shot_names[index]}.jpg", content)
            else:
                archive.writestr(f"portfolio/look-{index:04d}.jpg", content)
    return total, path.stat().st_size


def setup() -> tuple[User, list[str]]:
    call_command("migrate", verbosity=0)
    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=EMAIL, username="bench-subjects", domain=default_domain())
    names = [f"bench_shot_{index:03d}" for index in range(BASE_IMAGES)]
    for name in names:
        ShotType.objects.get_or_create(
            owner=user, organization=None, name=name, defaults={"view_angle": "front", "framing": "full_body"}
        )
    return user, names


def upload(user, path: Path):
    handle = TemporaryUploadedFile("bench.zip", "application/zip", path.stat().st_size, None)
    with open(path, "rb") as source:
        shutil.copyfileobj(source, handle, 1024 * 1024)
    handle.seek(0)
    ingest.read_metadata(handle.temporary_file_path(), required=False)
    with transaction.atomic():
        subject = services.create_subject(
            user=user, owner=user, organization=None, data={"name": "Bench", "age_class": "adult"}
        )
        task = ingest.start_upload(user=user, archive=handle, subject=subject)
    handle.close()
    return task


def pipeline_rate(path: Path) -> float:
    """Images per second of the media pipeline alone on the archive's first ``--sample`` images."""
    with zipfile.ZipFile(path) as archive:
        contents = [archive.read(info) for info in archive.infolist()[: ARGS.sample]]
    started = time.perf_counter()
    for content in contents:
        process_image(content, policy=STUDIO_MEDIA)
    return len(contents) / (time.perf_counter() - started)


def main() -> None:
    user, names = setup()
    path = TEMP / "bench.zip"
    started = time.perf_counter()
    raw, size = build_archive(path, names)
    print(
        f"archive: {ARGS.images} JPEG images of {ARGS.side}x{ARGS.side * 4 // 3} px, {raw / 2**20:.1f} MiB of "
        f"images, {size / 2**20:.1f} MiB zipped (built in {time.perf_counter() - started:.1f} s)"
    )
    print(
        f"{BASE_IMAGES} base images, {PORTFOLIO_IMAGES} portfolio images; python {platform.python_version()}, "
        f"Pillow {PIL.__version__}, {platform.machine()}, {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.1f}"
    )
    pipeline = pipeline_rate(path)
    print(f"media pipeline alone (STUDIO_MEDIA, {ARGS.sample} images): {pipeline:.1f} images/s")
    rates = []
    for run in range(1, ARGS.runs + 1):
        task = upload(user, path)
        started = time.perf_counter()
        done = ingest.run_upload(task.pk)
        elapsed = time.perf_counter() - started
        stored = done.images_processed + done.portfolio_images_processed
        if done.status != "COMPLETED" or stored != ARGS.images:
            sys.exit(f"run {run}: {done.status}, {stored} of {ARGS.images} images stored: {done.error_message}")
        rates.append(stored / elapsed)
        print(f"run {run}: {stored} images in {elapsed:6.2f} s = {rates[-1]:6.1f} images/s")
    median = statistics.median(rates)
    share = median / pipeline
    print(f"ZIP ingestion: median {median:.1f} images/s over {len(rates)} run(s) ({share:.0%} of the pipeline alone)")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TEMP, ignore_errors=True)
