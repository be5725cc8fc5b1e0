"""config.settings.base.build_storages: the local file system, an S3-compatible store (a moto server
started by the test on a free localhost port), and a refused unknown backend."""

import urllib.request

import boto3
import environ
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.storage.handler import StorageHandler

from config.settings.base import build_storages

BUCKET = "atelier-media"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"


def _env(**values) -> environ.Env:
    environment = environ.Env()
    environment.ENVIRON = {key: str(value) for key, value in values.items()}
    return environment


def _storage(storages: dict, alias: str = "default"):
    return StorageHandler(storages).create_storage(storages[alias])


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _s3_env(endpoint: str, **extra) -> environ.Env:
    return _env(
        STORAGE_BACKEND="s3",
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=endpoint,
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID=ACCESS_KEY,
        S3_SECRET_ACCESS_KEY=SECRET_KEY,
        **extra,
    )


def test_s3_settings_from_the_environment(s3_endpoint):
    storages = build_storages(_s3_env(s3_endpoint, S3_LOCATION="media"))

    assert storages["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": s3_endpoint,
            "region_name": "us-east-1",
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "location": "media",
            "custom_domain": None,
            "querystring_auth": True,
            "querystring_expire": 3600,
            "addressing_style": "path",
            "file_overwrite": False,
            "default_acl": None,
        },
    }
    assert storages["staticfiles"] == {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}


def test_s3_storage_round_trip(s3_endpoint, s3_bucket):
    from storages.backends.s3 import S3Storage

    storages = build_storages(_s3_env(s3_endpoint, S3_LOCATION="media"))
    storage = _storage(storages)
    assert isinstance(storage, S3Storage)

    name = storage.save("items/hello.txt", ContentFile(b"hello, bucket"))
    assert name == "items/hello.txt"
    # The object really is in the bucket, under the configured location.
    stored = s3_bucket.get_object(Bucket=BUCKET, Key="media/items/hello.txt")
    assert stored["Body"].read() == b"hello, bucket"

    assert storage.exists(name)
    with storage.open(name) as handle:
        assert handle.read() == b"hello, bucket"
    assert storage.size(name) == len(b"hello, bucket")

    # file_overwrite is off: the same name gets a new one instead of replacing the object.
    second = storage.save("items/hello.txt", ContentFile(b"another"))
    assert second != name
    assert second.startswith("items/hello_")

    url = storage.url(name)
    assert url.startswith(f"{s3_endpoint}/{BUCKET}/media/items/hello.txt?")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the test's own server
        assert response.read() == b"hello, bucket"

    storage.delete(name)
    assert not storage.exists(name)
    assert storage.exists(second)


def test_s3_without_query_string_auth_gives_plain_urls(s3_endpoint, s3_bucket):
    storage = _storage(build_storages(_s3_env(s3_endpoint, S3_QUERYSTRING_AUTH="false")))
    name = storage.save("public.txt", ContentFile(b"x"))
    assert storage.url(name) == f"{s3_endpoint}/{BUCKET}/public.txt"


def test_s3_needs_a_bucket(s3_endpoint):
    with pytest.raises(ImproperlyConfigured, match="S3_BUCKET"):
        build_storages(_env(STORAGE_BACKEND="s3", S3_ENDPOINT_URL=s3_endpoint))


def test_local_storage_by_default(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    storages = build_storages(_env())
    assert storages["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}

    storage = _storage(storages)
    assert isinstance(storage, FileSystemStorage)
    name = storage.save("items/hello.txt", ContentFile(b"hello, disk"))
    assert (tmp_path / "items" / "hello.txt").read_bytes() == b"hello, disk"
    assert storage.exists(name)
    with storage.open(name) as handle:
        assert handle.read() == b"hello, disk"
    storage.delete(name)
    assert not (tmp_path / "items" / "hello.txt").exists()


def test_local_is_also_the_explicit_choice():
    assert build_storages(_env(STORAGE_BACKEND="local"))["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }


def test_the_backend_name_is_read_leniently():
    storages = build_storages(_env(STORAGE_BACKEND=" S3 ", S3_BUCKET=BUCKET))
    assert storages["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storages["default"]["OPTIONS"]["endpoint_url"] is None  # plain AWS when no endpoint is set


@pytest.mark.parametrize("value", ["gcs", "filesystem", "s3-compatible", ""])
def test_an_unknown_backend_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="STORAGE_BACKEND must be 'local' or 's3'"):
        build_storages(_env(STORAGE_BACKEND=value))
