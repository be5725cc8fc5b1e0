"""Neuroflash workspace images over HTTP: upload (URL and data: URI), list, get, delete, content.

The image sources are real HTTP servers on loopback: the one on 127.0.0.2 plays a public server
(127.0.0.2/32 is put in SAFE_FETCH_ALLOWED_NETWORKS), the one on 127.0.0.1 a private service that
must never see a connection.
"""

import base64
import dataclasses
import http.server
import io
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.core.media import WORKSPACE_IMAGE
from apps.core.models import FileObject
from apps.items import services_neuroflash
from apps.items.models import Item
from tests.core.dialect_support import api, bearer_for
from tests.factories import DomainFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE_PATH = "/api/image-service/v1/workspaces"
FIELDS = {
    "id",
    "generationId",
    "workspaceId",
    "createdByUserId",
    "prompt",
    "model",
    "parameters",
    "inputImageIds",
    "imageWidth",
    "imageHeight",
    "imageSize",
    "createdAt",
    "updatedAt",
    "_links",
}
ERROR_FIELDS = {"timestamp", "status", "error", "message", "path"}
NOT_A_MEMBER = "You are not a member of this workspace."
NOT_YOURS = (
    "Only the creator of an image, or a user with the NF_ADMIN, NF_CUSTOMER_SUPPORT or ADMIN_SERVICE role, "
    "can delete it."
)
ROLES = ["NF_ADMIN", "NF_CUSTOMER_SUPPORT", "ADMIN_SERVICE"]
PUBLIC_HOST = "127.0.0.2"
PRIVATE_HOST = "127.0.0.1"
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------------


def image_bytes(fmt="PNG", size=(40, 30), color=(200, 30, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def data_uri(content: bytes, media_type="image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def images_url(workspace_id) -> str:
    return f"{BASE_PATH}/{workspace_id}/images"


def image_url(workspace_id, image_id) -> str:
    return f"{BASE_PATH}/{workspace_id}/images/{image_id}"


def assert_error(response, status: int, message: str | None = None, *, errors=None, fields=None) -> dict:
    """The Spring-style error body; ``errors`` the exact field errors, ``fields`` only the fields they name."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    with_errors = errors is not None or fields is not None
    assert set(body) == (ERROR_FIELDS | {"errors"} if with_errors else ERROR_FIELDS)
    if fields is not None:
        assert [error["field"] for error in body["errors"]] == fields
    assert body["status"] == status
    assert body["path"] == response.request["PATH_INFO"]
    if message is not None:
        assert body["message"] == message
    if errors is not None:
        assert body["errors"] == errors
    return body


def make_image(workspace, owner, *, at=None, **fields) -> Item:
    at = at or datetime.now(UTC)
    fields.setdefault("width", 64)
    fields.setdefault("height", 48)
    fields.setdefault("size_bytes", 1234)
    return Item.objects.create(workspace=workspace, owner=owner, created_at=at, reference_at=at, **fields)


def grant(user, role: str) -> None:
    user.groups.add(Group.objects.get(name=role))


class Listener:
    """An HTTP server in a thread that counts the connections it accepts and records request paths."""

    def __init__(self, host: str):
        listener = self
        self.connections = 0
        self.paths: list[str] = []
        self.routes: dict[str, tuple] = {}  # path -> (status, body, content type[, extra headers])

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_GET(self):
                listener.paths.append(self.path)
                status, body, content_type, *extra = listener.routes.get(self.path, (404, b"not found", "text/plain"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address):
                listener.connections += 1
                return True

            def handle_error(self, request, client_address):
                pass  # the client hangs up early when a body is too large

        self.server = Server((host, 0), Handler)
        self.host, self.port = host, self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def reset(self):
        self.connections = 0
        self.paths.clear()
        self.routes.clear()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listeners():
    servers = {"public": Listener(PUBLIC_HOST), "private": Listener(PRIVATE_HOST)}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def public(listeners, settings):
    for server in listeners.values():
        server.reset()
    settings.SAFE_FETCH_ALLOWED_NETWORKS = [f"{PUBLIC_HOST}/32"]
    settings.SAFE_FETCH_EXTRA_PORTS = [server.port for server in listeners.values()]
    return listeners["public"]


@pytest.fixture
def private(public, listeners):
    return listeners["private"]


@pytest.fixture
def client():
    return api()


@pytest.fixture
def workspace():
    return OrganizationFactory()


@pytest.fixture
def member(workspace):
    return MembershipFactory(organization=workspace).user


@pytest.fixture
def as_member(member):
    return bearer_for(member)


def upload(client, workspace, credentials, source) -> object:
    return client.post(images_url(workspace.pk), {"imageUrl": source}, format="json", **credentials)


# --- upload --------------------------------------------------------------------------------------


def test_upload_from_a_data_uri(client, workspace, member, as_member):
    response = upload(client, workspace, as_member, data_uri(image_bytes(size=(40, 30))))

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == FIELDS
    item = Item.objects.get(pk=body["id"])
    assert body["id"] == str(item.pk)
    assert body["workspaceId"] == str(workspace.pk)
    assert body["createdByUserId"] == str(member.pk)
    assert isinstance(body["generationId"], str)
    assert uuid.UUID(body["generationId"]) != item.pk
    assert body["prompt"] == ""
    assert body["model"] == ""
    assert body["parameters"] == {}
    assert body["inputImageIds"] == []
    assert (body["imageWidth"], body["imageHeight"]) == (40, 30)
    assert body["imageSize"] == item.file.size == item.size_bytes
    for stamp in (body["createdAt"], body["updatedAt"]):
        assert stamp.endswith("Z")
        assert abs(datetime.fromisoformat(stamp) - datetime.now(UTC)) < timedelta(minutes=1)
    content = f"http://testserver{image_url(workspace.pk, item.pk)}/content"
    assert body["_links"] == {"content": content}
    assert response["Location"] == f"http://testserver{image_url(workspace.pk, item.pk)}"
    # Stored through the file server, under ids of its own (the image id alone does not open the bytes).
    assert item.file.content_type == "image/png"
    assert item.thumbnail.content_type == "image/webp"
    assert {item.file_id, item.thumbnail_id}.isdisjoint({str(item.pk)})
    assert item.file.owner == member
    assert default_storage.exists(item.file.storage_name)


def test_upload_from_a_public_url_goes_through_the_pipeline(client, workspace, as_member, public, private):
    jpeg = image_bytes("JPEG", size=(64, 32))
    public.routes["/pictures/cat.jpg"] = (200, jpeg, "application/octet-stream")

    response = upload(client, workspace, as_member, public.url("/pictures/cat.jpg"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["imageWidth"], body["imageHeight"]) == (64, 32)
    assert public.paths == ["/pictures/cat.jpg"]
    assert private.connections == 0
    item = Item.objects.get(pk=body["id"])
    assert item.file.content_type == "image/jpeg"  # sniffed from the bytes, not the server's header
    with default_storage.open(item.file.storage_name, "rb") as stored:
        assert stored.read() != jpeg  # re-encoded by the media pipeline


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/secret.png",
        "http://localhost:{port}/secret.png",
        "http://[::ffff:127.0.0.1]:{port}/secret.png",
        "http://2130706433:{port}/secret.png",
    ],
)
def test_a_url_to_a_private_address_is_refused_without_a_connection(client, workspace, as_member, private, target):
    private.routes["/secret.png"] = (200, image_bytes(), "image/png")

    response = upload(client, workspace, as_member, target.format(port=private.port))

    assert_error(response, 400)
    time.sleep(0.05)  # a connection, had one been made, would be accepted by now
    assert private.connections == 0
    assert private.paths == []
    assert not Item.objects.exists()


def test_a_redirect_to_a_private_address_is_refused(client, workspace, as_member, public, private):
    private.routes["/secret.png"] = (200, image_bytes(), "image/png")
    public.routes["/hop"] = (302, b"", "text/plain", {"Location": private.url("/secret.png")})

    assert_error(upload(client, workspace, as_member, public.url("/hop")), 400)

    assert public.paths == ["/hop"]
    time.sleep(0.05)
    assert private.connections == 0
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    "source",
    ["file:///etc/passwd", "ftp://example.com/cat.png", "gopher://example.com/", "http://169.254.169.254/latest/"],
)
def test_other_schemes_and_metadata_addresses_are_refused(client, workspace, as_member, public, source):
    assert_error(upload(client, workspace, as_member, source), 400)
    assert not Item.objects.exists()


def test_a_url_that_is_not_an_image_is_refused(client, workspace, as_member, public):
    public.routes["/page.html"] = (200, b"<html><body>hello</body></html>", "image/png")
    message = "The file is not an image we can read. Send a PNG, JPEG or WebP image."
    response = upload(client, workspace, as_member, public.url("/page.html"))
    assert_error(response, 400, f"imageUrl: {message}", errors=[{"field": "imageUrl", "message": message}])
    assert not Item.objects.exists()
    assert not FileObject.objects.exists()


def test_a_missing_remote_file_is_a_502(client, workspace, as_member, public):
    assert_error(upload(client, workspace, as_member, public.url("/missing.png")), 502)


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"just some text, not a picture", "image/png"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
        (image_bytes()[:60], "image/png"),  # truncated
    ],
)
def test_data_that_is_not_an_image_is_refused(client, workspace, as_member, content, media_type):
    assert_error(upload(client, workspace, as_member, data_uri(content, media_type)), 400, fields=["imageUrl"])
    assert not Item.objects.exists()
    assert not FileObject.objects.exists()


def test_a_format_workspace_images_do_not_take_is_refused(client, workspace, as_member):
    message = "GIF images are not accepted for workspace images. Send a PNG, JPEG or WebP image."
    response = upload(client, workspace, as_member, data_uri(image_bytes("GIF"), "image/gif"))
    assert_error(response, 400, f"imageUrl: {message}", errors=[{"field": "imageUrl", "message": message}])


def test_oversized_data_is_refused_before_decoding(client, workspace, as_member):
    too_big = base64.b64encode(b"\0" * (WORKSPACE_IMAGE.max_bytes + 1)).decode()

    response = upload(client, workspace, as_member, f"data:image/png;base64,{too_big}")

    body = assert_error(response, 413)
    assert body["error"] == "Payload Too Large"
    assert body["message"] == "Workspace images may be at most 20 MB; send a smaller image."
    assert not Item.objects.exists()


def test_a_body_larger_than_any_data_uri_is_refused(client, workspace, as_member):
    from apps.items.api.neuroflash import MAX_BODY_BYTES

    response = client.post(
        images_url(workspace.pk),
        data=b'{"imageUrl": "' + b"A" * MAX_BODY_BYTES + b'"}',
        content_type="application/json",
        **as_member,
    )
    assert_error(response, 413)


def test_an_oversized_remote_image_is_refused(client, workspace, as_member, public, monkeypatch):
    monkeypatch.setattr(services_neuroflash, "POLICY", dataclasses.replace(WORKSPACE_IMAGE, max_bytes=500))
    public.routes["/big.png"] = (200, image_bytes(size=(300, 300)) + b"\0" * 1000, "image/png")

    assert_error(upload(client, workspace, as_member, public.url("/big.png")), 413)
    assert not Item.objects.exists()


def test_an_oversized_image_in_plain_data_is_refused(client, workspace, as_member, monkeypatch):
    monkeypatch.setattr(services_neuroflash, "POLICY", dataclasses.replace(WORKSPACE_IMAGE, max_bytes=500))
    content = image_bytes(size=(200, 200)) + b"\0" * 600
    source = "data:image/png," + "".join(f"%{byte:02x}" for byte in content)

    assert_error(upload(client, workspace, as_member, source), 413)


def test_a_plain_percent_encoded_data_uri_is_accepted(client, workspace, as_member):
    content = image_bytes(size=(8, 6))
    source = "data:image/png," + "".join(f"%{byte:02x}" for byte in content)

    response = upload(client, workspace, as_member, source)

    assert response.status_code == 201
    assert (response.json()["imageWidth"], response.json()["imageHeight"]) == (8, 6)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, [{"field": "imageUrl", "message": "This field is required."}]),
        ({"imageUrl": ""}, [{"field": "imageUrl", "message": "This field may not be blank."}]),
        (
            {"imageUrl": 42},
            [{"field": "imageUrl", "message": "Not a valid string: give an http(s) URL or a data: URI."}],
        ),
        ({"imageUrl": None}, [{"field": "imageUrl", "message": "This field may not be null."}]),
        (
            {"imageUrl": "data:image/png;base64,@@@not-base64@@@"},
            [{"field": "imageUrl", "message": "The base64 data of the data: URI is not valid base64."}],
        ),
        (
            {"imageUrl": "data:image/png;base64"},
            [
                {
                    "field": "imageUrl",
                    "message": "A data: URI needs a comma before its data, e.g. data:image/png;base64,iVBORw0KGgo….",
                }
            ],
        ),
    ],
)
def test_bad_input_is_a_400(client, workspace, as_member, payload, errors):
    response = client.post(images_url(workspace.pk), payload, format="json", **as_member)
    assert_error(response, 400, errors=errors)


def test_a_form_body_is_refused(client, workspace, as_member):
    response = client.post(images_url(workspace.pk), {"imageUrl": data_uri(image_bytes())}, **as_member)
    assert_error(response, 415)


# --- access --------------------------------------------------------------------------------------


def test_no_token_is_a_401(client, workspace, member):
    image = make_image(workspace, member)
    for response in (
        client.get(images_url(workspace.pk)),
        client.post(images_url(workspace.pk), {"imageUrl": data_uri(image_bytes())}, format="json"),
        client.get(image_url(workspace.pk, image.pk)),
        client.delete(image_url(workspace.pk, image.pk)),
        client.get(f"{image_url(workspace.pk, image.pk)}/content"),
    ):
        assert_error(response, 401, "You are not signed in.")
    assert Item.objects.filter(pk=image.pk).exists()


def test_a_non_member_is_refused_everywhere(client, workspace, member):
    image = make_image(workspace, member)
    outsider = bearer_for(MembershipFactory().user)  # a member of another workspace
    for response in (
        client.get(images_url(workspace.pk), **outsider),
        upload(client, workspace, outsider, data_uri(image_bytes())),
        client.get(image_url(workspace.pk, image.pk), **outsider),
        client.delete(image_url(workspace.pk, image.pk), **outsider),
        client.get(f"{image_url(workspace.pk, image.pk)}/content", **outsider),
    ):
        assert_error(response, 403, NOT_A_MEMBER)
    assert Item.objects.count() == 1


@pytest.mark.parametrize("workspace_id", [str(uuid.UUID(int=7)), "not-a-uuid"])
def test_an_unknown_workspace_is_a_404(client, as_member, workspace_id):
    message = f"No workspace has the id '{workspace_id}'."
    assert_error(client.get(images_url(workspace_id), **as_member), 404, message)
    assert_error(client.get(image_url(workspace_id, uuid.uuid4()), **as_member), 404, message)
    assert_error(client.post(images_url(workspace_id), {"imageUrl": "x"}, format="json", **as_member), 404, message)


def test_a_deleted_workspace_or_one_of_another_site_is_a_404(client, member, as_member):
    gone = OrganizationFactory()
    MembershipFactory(organization=gone, user=member)
    gone.delete()
    elsewhere = OrganizationFactory(domain=DomainFactory())
    assert_error(client.get(images_url(gone.pk), **as_member), 404, f"No workspace has the id '{gone.pk}'.")
    assert_error(client.get(images_url(elsewhere.pk), **as_member), 404)


def test_an_unknown_image_is_a_404(client, workspace, member, as_member):
    other_workspace = OrganizationFactory()
    foreign = make_image(other_workspace, member)
    deleted = make_image(workspace, member)
    deleted.delete()
    for image_id in (uuid.uuid4(), "not-a-uuid", foreign.pk, deleted.pk):
        message = f"No image has the id '{image_id}' in this workspace."
        assert_error(client.get(image_url(workspace.pk, image_id), **as_member), 404, message)
        assert_error(client.delete(image_url(workspace.pk, image_id), **as_member), 404, message)
        assert_error(client.get(f"{image_url(workspace.pk, image_id)}/content", **as_member), 404, message)
    assert Item.objects.filter(pk=foreign.pk).exists()


def test_a_wrong_method_is_a_405(client, workspace, member, as_member):
    image = make_image(workspace, member)
    assert_error(client.put(image_url(workspace.pk, image.pk), {}, format="json", **as_member), 405)
    assert_error(client.delete(images_url(workspace.pk), **as_member), 405)


# --- get -----------------------------------------------------------------------------------------


def test_get_one_image(client, workspace, member, as_member):
    creator = MembershipFactory(organization=workspace).user
    source = make_image(workspace, creator)
    image = make_image(
        workspace,
        creator,
        at=BASE,
        generation_id="gen-1",
        model="flux-pro",
        prompt="a red fox in snow",
        parameters={"aspectRatio": "16:9", "format": "png"},
        input_image_ids=[str(source.pk)],
        width=1024,
        height=576,
        size_bytes=345678,
    )

    response = client.get(image_url(workspace.pk, image.pk), **as_member)

    assert response.status_code == 200
    image.refresh_from_db()
    assert response.json() == {
        "id": str(image.pk),
        "generationId": "gen-1",
        "workspaceId": str(workspace.pk),
        "createdByUserId": str(creator.pk),
        "prompt": "a red fox in snow",
        "model": "flux-pro",
        "parameters": {"aspectRatio": "16:9", "format": "png"},
        "inputImageIds": [str(source.pk)],
        "imageWidth": 1024,
        "imageHeight": 576,
        "imageSize": 345678,
        "createdAt": "2024-05-01T12:00:00.000Z",
        "updatedAt": image.updated_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "_links": {"content": f"http://testserver{image_url(workspace.pk, image.pk)}/content"},
    }


# --- list ----------------------------------------------------------------------------------------


def test_the_list_is_newest_first_in_pages(client, workspace, member, as_member):
    images = [make_image(workspace, member, at=BASE + timedelta(minutes=i)) for i in range(5)]
    make_image(OrganizationFactory(), member, at=BASE)  # another workspace
    make_image(workspace, member, at=BASE + timedelta(hours=1)).delete()
    newest_first = [str(image.pk) for image in reversed(images)]

    body = client.get(images_url(workspace.pk), **as_member).json()
    assert body["page"] == {"size": 50, "totalElements": 5, "totalPages": 1, "currentPage": 1}
    assert [image["id"] for image in body["data"]] == newest_first
    assert all(set(image) == FIELDS for image in body["data"])

    walked = []
    for number in (1, 2, 3):
        response = client.get(images_url(workspace.pk), {"page": number, "size": 2}, **as_member)
        assert response.json()["page"] == {"size": 2, "totalElements": 5, "totalPages": 3, "currentPage": number}
        walked += [image["id"] for image in response.json()["data"]]
    assert walked == newest_first


def test_images_with_one_timestamp_are_paged_without_loss_or_repeat(client, workspace, member, as_member):
    images = [make_image(workspace, member, at=BASE) for _ in range(7)]
    walked = []
    for number in (1, 2, 3):
        walked += [
            i["id"]
            for i in client.get(images_url(workspace.pk), {"page": number, "size": 3}, **as_member).json()["data"]
        ]
    assert sorted(walked) == sorted(str(image.pk) for image in images)
    assert len(walked) == len(set(walked)) == 7


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"size": 201}, "size", "Ensure this value is less than or equal to 200."),
        ({"size": 0}, "size", "Ensure this value is greater than or equal to 1."),
        ({"page": 0}, "page", "Ensure this value is greater than or equal to 1."),
        ({"page": "two"}, "page", "A valid integer is required."),
        ({"createdByUserId": "somebody"}, "createdByUserId", "Enter a valid UUID."),
    ],
)
def test_a_bad_list_query_is_a_400(client, workspace, as_member, params, field, message):
    response = client.get(images_url(workspace.pk), params, **as_member)
    assert_error(response, 400, f"{field}: {message}", errors=[{"field": field, "message": message}])


def test_size_allows_200(client, workspace, member, as_member):
    Item.objects.bulk_create(
        [Item(workspace=workspace, owner=member, created_at=BASE + timedelta(seconds=i)) for i in range(201)]
    )
    body = client.get(images_url(workspace.pk), {"size": 200}, **as_member).json()
    assert len(body["data"]) == 200
    assert body["page"] == {"size": 200, "totalElements": 201, "totalPages": 2, "currentPage": 1}


def test_the_list_filters(client, workspace, member, as_member):
    colleague = MembershipFactory(organization=workspace).user
    first = make_image(workspace, member, at=BASE, generation_id="g1", model="flux")
    second = make_image(workspace, member, at=BASE + timedelta(seconds=1), generation_id="g1", model="flux")
    third = make_image(workspace, colleague, at=BASE + timedelta(seconds=2), generation_id="g2", model="flux")
    fourth = make_image(workspace, colleague, at=BASE + timedelta(seconds=3), generation_id="g3", model="sdxl")

    def ids(**params):
        response = client.get(images_url(workspace.pk), params, **as_member)
        assert response.status_code == 200
        return [image["id"] for image in response.json()["data"]]

    assert ids(generationId="g1") == [str(second.pk), str(first.pk)]
    assert ids(modelId="flux") == [str(third.pk), str(second.pk), str(first.pk)]
    assert ids(modelId="sdxl") == [str(fourth.pk)]
    assert ids(createdByUserId=str(colleague.pk)) == [str(fourth.pk), str(third.pk)]
    assert ids(createdByUserId=str(colleague.pk), modelId="flux") == [str(third.pk)]
    assert ids(generationId="nope") == []
    assert ids(createdByUserId=str(uuid.uuid4())) == []


def test_a_page_costs_the_same_queries_whatever_its_size(client, workspace, member, as_member):
    Item.objects.bulk_create(
        [Item(workspace=workspace, owner=member, created_at=BASE + timedelta(seconds=i)) for i in range(60)]
    )
    client.get(images_url(workspace.pk), **as_member)  # the token's first use is recorded once
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(images_url(workspace.pk), {"size": size}, **as_member)
        assert len(response.json()["data"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- delete --------------------------------------------------------------------------------------


def test_the_creator_deletes_an_image_softly(client, workspace, member, as_member):
    image = make_image(workspace, member)

    response = client.delete(image_url(workspace.pk, image.pk), **as_member)

    assert response.status_code == 204
    assert response.content == b""
    assert Item.all_objects.get(pk=image.pk).deleted_at is not None
    assert_error(client.get(image_url(workspace.pk, image.pk), **as_member), 404)
    assert client.get(images_url(workspace.pk), **as_member).json()["page"]["totalElements"] == 0
    assert_error(client.delete(image_url(workspace.pk, image.pk), **as_member), 404)


def test_another_member_cannot_delete(client, workspace, member):
    image = make_image(workspace, member)
    for role in (None, "admin", "moderator", "support"):
        colleague = MembershipFactory(organization=workspace, role="admin" if role else "owner").user
        if role:
            grant(colleague, role)
        assert_error(client.delete(image_url(workspace.pk, image.pk), **bearer_for(colleague)), 403, NOT_YOURS)
    assert Item.objects.filter(pk=image.pk).exists()


def test_a_creator_who_left_the_workspace_cannot_delete(client, workspace, member, as_member):
    image = make_image(workspace, member)
    member.memberships.all().delete()
    assert_error(client.delete(image_url(workspace.pk, image.pk), **as_member), 403, NOT_A_MEMBER)
    assert Item.objects.filter(pk=image.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_deletes_any_image_of_any_workspace(client, workspace, member, role):
    image = make_image(workspace, member)
    staff = UserFactory()
    grant(staff, role)
    credentials = bearer_for(staff)

    assert client.get(images_url(workspace.pk), **credentials).json()["page"]["totalElements"] == 1
    assert client.get(image_url(workspace.pk, image.pk), **credentials).status_code == 200
    response = client.delete(image_url(workspace.pk, image.pk), **credentials)

    assert response.status_code == 204
    assert Item.all_objects.get(pk=image.pk).is_deleted


@pytest.mark.parametrize("role", ROLES)
def test_a_role_does_not_upload_into_a_workspace_it_is_not_a_member_of(client, workspace, role):
    staff = UserFactory()
    grant(staff, role)
    assert_error(upload(client, workspace, bearer_for(staff), data_uri(image_bytes())), 403, NOT_A_MEMBER)


def test_the_roles_are_groups_with_the_workspace_image_permissions():
    for role in ROLES:
        permissions = set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))
        assert permissions == {("items", "view_workspace_images"), ("items", "delete_workspace_images")}


# --- content -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_the_content_link_serves_the_image(client, workspace, as_member, fmt, content_type):
    created = upload(client, workspace, as_member, data_uri(image_bytes(fmt, size=(33, 21)))).json()
    link = created["_links"]["content"]

    response = client.get(link, HTTP_ACCEPT="image/*", **as_member)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    content = b"".join(response.streaming_content)
    assert len(content) == created["imageSize"]
    with Image.open(io.BytesIO(content)) as picture:
        assert picture.format == fmt
        assert picture.size == (33, 21)
    etag = response["ETag"]
    again = client.get(link, HTTP_IF_NONE_MATCH=etag, **as_member)
    assert again.status_code == 304
    assert again["ETag"] == etag


def test_the_content_of_an_image_without_a_file_is_a_404(client, workspace, member, as_member):
    image = make_image(workspace, member)
    assert_error(
        client.get(f"{image_url(workspace.pk, image.pk)}/content", **as_member), 404, "This image has no content yet."
    )


def test_a_deleted_image_has_no_content(client, workspace, as_member):
    created = upload(client, workspace, as_member, data_uri(image_bytes())).json()
    assert client.delete(image_url(workspace.pk, created["id"]), **as_member).status_code == 204
    assert_error(client.get(created["_links"]["content"], **as_member), 404)


def test_workspace_images_stay_out_of_the_uploaders_aimg_library():
    from apps.items import selectors
    from apps.items.models import Item

    member = UserFactory()
    workspace = OrganizationFactory()
    Item.objects.create(owner=member, workspace=workspace, prompt="")
    assert not selectors.owned_items(member).exists()
