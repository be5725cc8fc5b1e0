"""AIMG user management over HTTP: own properties, profile picture, key-value pairs, getUser,
deleteUser, the moderation endpoints and API2 getUserSession, in the AIMG envelope."""

import base64
import io
import random
import struct
import threading
import uuid
import zlib
from datetime import UTC, timedelta
from unittest import mock

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import AccessToken, AdminKey, ApiSession, ArchivedEmail, OneTimePassword, User, UserKeyValue
from apps.accounts.profile import ItemCounts, TierInfo
from apps.accounts.services.signin import assert_may_sign_in
from apps.accounts.signals import user_deleted
from apps.core.domains import default_domain
from apps.core.errors import PermissionDenied
from tests.factories import PASSWORD, DomainFactory, DomainHostFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_SIGNED_IN = "You are not signed in."
FORBIDDEN = "You are not allowed to access the requested resource."
MIB = 1024 * 1024


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


def error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


def iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def client():
    return APIClient()


def session_for(user=None, domain=None) -> ApiSession:
    return services.create_session(domain=domain or default_domain(), user=user)


def as_session(session) -> dict:
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def as_user(user) -> dict:
    return as_session(session_for(user))


def staff_with_role(role: str | None, **extra):
    staff = StaffFactory(**extra)
    if role:
        staff.groups.add(Group.objects.get(name=role))
    return staff


def as_admin_key(staff) -> dict:
    _, secret = services.create_admin_key(user=staff)
    return {"HTTP_X_ADMINISTRATION_KEY": secret}


@pytest.fixture
def user():
    return UserFactory(email="ada@example.com", username="ada")


@pytest.fixture
def admin():
    return as_admin_key(staff_with_role("admin"))


# --- images ---------------------------------------------------------------------------------------


def image_bytes(size=(300, 200), fmt="PNG", color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def noise_png(size) -> bytes:
    rng = random.Random(7)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's header)."""
    png = image_bytes((1, 1))
    header = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + header + struct.pack(">I", zlib.crc32(b"IHDR" + header)) + png[33:]


def data_uri(content: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def decoded_picture(uri: str) -> Image.Image:
    prefix = "data:image/webp;base64,"
    assert uri.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :])))


# --- setSelfUserProperties ------------------------------------------------------------------------


class TestSetSelfUserProperties:
    url = "/setSelfUserProperties"

    def post(self, client, session, body):
        return client.post(self.url, body, format="json", **as_session(session))

    def test_changes_the_username_and_answers_the_self_user(self, client, user):
        session = session_for(user)
        response = self.post(client, session, {"username": "  Lovelace  "})
        assert response.status_code == 200
        assert response.json() == ok(
            {
                "sessionID": str(session.pk),
                "userID": str(user.pk),
                "email": "ada@example.com",
                "username": "Lovelace",
                "isAuthenticated": True,
                "isAtLeast18Confirmed": False,
                "tier": 0,
                "merchantProcessor": "",
                "subscriptions": [],
                "itemCount": 0,
                "rootFolderItemCount": 0,
            }
        )
        assert User.objects.get(pk=user.pk).username == "Lovelace"

    def test_confirms_18_plus_and_takes_it_back(self, client, user):
        session = session_for(user)
        assert self.post(client, session, {"isAtLeast18Confirmed": True}).json()["payload"]["isAtLeast18Confirmed"]
        assert User.objects.get(pk=user.pk).is_at_least_18_confirmed is True
        response = self.post(client, session, {"isAtLeast18Confirmed": False})
        assert response.json()["payload"]["isAtLeast18Confirmed"] is False
        assert User.objects.get(pk=user.pk).is_at_least_18_confirmed is False

    def test_at_least_one_property_is_needed(self, client, user):
        response = self.post(client, session_for(user), {"otp": "123456"})
        assert response.status_code == 400
        assert response.json() == error(
            "Give at least one of username, password, email or isAtLeast18Confirmed to change."
        )

    def test_usernames_are_unique_per_domain_whatever_the_case(self, client, user):
        UserFactory(username="Grace")
        elsewhere = DomainFactory()
        UserFactory(domain=elsewhere, username="Hopper")
        response = self.post(client, session_for(user), {"username": "grace"})
        assert response.status_code == 409
        assert response.json() == error("The username grace is already taken. Choose another one.")
        assert self.post(client, session_for(user), {"username": "hopper"}).status_code == 200
        # Keeping one's own name in another case is not a clash.
        assert self.post(client, session_for(user), {"username": "HOPPER"}).status_code == 200

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"username": "   "}, "username: The username cannot be empty."),
            ({"username": ""}, "username: The username cannot be empty."),
            ({"username": "x" * 151}, "username: The username may be at most 150 characters long."),
            (
                {"username": "a\u200bb"},
                "username: The username may not contain control or invisible formatting characters.",
            ),
            ({"username": 42}, "username: Must be a string."),
            ({"username": None}, "username: This field may not be null."),
            ({"isAtLeast18Confirmed": "maybe"}, "isAtLeast18Confirmed: Must be a valid boolean."),
            ({"email": ["a@example.com"]}, "email: Must be a string."),
            ({"username": "a\x00b"}, "username: Null characters are not allowed."),
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, client, user, body, message):
        response = self.post(client, session_for(user), body)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert User.objects.get(pk=user.pk).username == "ada"

    def test_a_body_that_is_not_an_object_is_400(self, client, user):
        response = self.post(client, session_for(user), ["username", "x"])
        assert response.status_code == 400
        assert response.json() == error("Invalid data. Expected a dictionary, but got list.")

    def test_a_weak_password_is_refused_with_the_rule(self, client, user):
        response = self.post(client, session_for(user), {"password": "password"})
        assert response.status_code == 400
        message = response.json()["errorMessage"]
        assert message.startswith("password: The password must contain an uppercase letter (A-Z)")
        assert User.objects.get(pk=user.pk).check_password(PASSWORD)

    def test_a_new_password_signs_every_other_session_out(self, client, user):
        current, other, another = session_for(user), session_for(user), session_for(user)
        bystander = session_for(UserFactory())
        response = self.post(client, current, {"password": "N3w!Passphrase"})
        assert response.status_code == 200
        assert response.json()["payload"]["sessionID"] == str(current.pk)
        stored = User.objects.get(pk=user.pk)
        assert stored.check_password("N3w!Passphrase")
        assert not stored.check_password(PASSWORD)
        usable = set(ApiSession.objects.usable().values_list("pk", flat=True))
        assert current.pk in usable and bystander.pk in usable
        assert other.pk not in usable and another.pk not in usable
        # The signed-out sessions are refused from now on; the current one still works.
        assert self.post(client, other, {"username": "x1"}).status_code == 401
        assert self.post(client, current, {"username": "x2"}).status_code == 200

    def test_not_signed_in_is_401(self, client):
        assert client.post(self.url, {"username": "x"}, format="json").json() == error(NOT_SIGNED_IN)
        guest = self.post(client, session_for(), {"username": "x"})
        assert guest.status_code == 401
        assert guest.json() == error(NOT_SIGNED_IN)

    def test_a_malformed_session_header_is_401(self, client):
        response = client.post(self.url, {"username": "x"}, format="json", HTTP_X_SESSION_ID="not-a-uuid")
        assert response.status_code == 401
        assert response.json() == error("The X-Session-ID header must be a valid UUID.")

    def test_only_post(self, client, user):
        assert client.get(self.url, **as_user(user)).status_code == 405


class TestEmailChange:
    url = "/setSelfUserProperties"

    def post(self, client, user, body):
        return client.post(self.url, body, format="json", **as_user(user))

    def code_for(self, email: str) -> str:
        _, code = services.issue_otp(domain=default_domain(), email=email, sign_up=True)
        return code

    def test_with_the_code_sent_to_the_new_address_the_email_changes_and_the_old_is_archived(self, client, user):
        code = self.code_for("lovelace@example.com")
        response = self.post(client, user, {"email": "Lovelace@Example.com", "otp": code})
        assert response.status_code == 200
        assert response.json()["payload"]["email"] == "Lovelace@example.com"
        assert User.objects.get(pk=user.pk).email == "Lovelace@example.com"
        assert list(ArchivedEmail.objects.filter(user=user).values_list("email", flat=True)) == ["ada@example.com"]
        assert OneTimePassword.objects.get(email="lovelace@example.com").consumed_at is not None
        # The code is used up: it cannot change the email a second time.
        again = self.post(client, user, {"email": "lovelace@example.com", "otp": code})
        assert again.status_code == 400

    def test_without_a_code_it_is_refused(self, client, user):
        response = self.post(client, user, {"email": "new@example.com"})
        assert response.status_code == 400
        assert response.json() == error(
            "otp: Changing the email needs the one-time password sent to the new address: request it with "
            "requestOTP (the new email, signUp true) and send it as otp."
        )
        assert User.objects.get(pk=user.pk).email == "ada@example.com"

    def test_a_wrong_code_is_refused_changes_nothing_and_spends_a_try(self, client, user):
        code = self.code_for("new@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        response = self.post(client, user, {"email": "new@example.com", "otp": wrong, "username": "renamed"})
        assert response.status_code == 400
        assert response.json() == error(
            "otp: The one-time password is wrong or has expired. Request a new one for the new email with "
            "requestOTP (signUp true)."
        )
        stored = User.objects.get(pk=user.pk)
        assert (stored.email, stored.username) == ("ada@example.com", "ada")
        assert not ArchivedEmail.objects.exists()
        assert OneTimePassword.objects.get(email="new@example.com").failed_attempts == 1

    def test_a_code_sent_to_another_address_does_not_count(self, client, user):
        code = self.code_for("other@example.com")
        response = self.post(client, user, {"email": "new@example.com", "otp": code})
        assert response.status_code == 400
        assert OneTimePassword.objects.get(email="other@example.com").consumed_at is None

    @pytest.mark.parametrize("email", ["not-an-email", "a@b@example.com", "x" * 250 + "@example.com", ""])
    def test_an_invalid_email_is_refused(self, client, user, email):
        response = self.post(client, user, {"email": email, "otp": "123456"})
        assert response.status_code == 400
        assert response.json() == error("email: The new email is not a valid email address.")

    def test_the_same_email_is_refused(self, client, user):
        response = self.post(client, user, {"email": "ADA@example.com", "otp": "123456"})
        assert response.status_code == 400
        assert response.json() == error("email: The new email is the same as the current one.")

    def test_an_email_in_use_on_the_domain_is_refused_before_the_code_is_spent(self, client, user):
        UserFactory(email="taken@example.com")
        code = self.code_for("taken@example.com")
        response = self.post(client, user, {"email": "TAKEN@example.com", "otp": code})
        assert response.status_code == 409
        assert response.json() == error("This email is already in use. Choose another one.")
        assert OneTimePassword.objects.get(email="taken@example.com").failed_attempts == 0

    def test_an_email_used_on_another_domain_is_free(self, client, user):
        UserFactory(email="taken@example.com", domain=DomainFactory())
        code = self.code_for("taken@example.com")
        assert self.post(client, user, {"email": "taken@example.com", "otp": code}).status_code == 200

    def test_refused_after_signing_in_with_an_external_provider(self, client, user):
        SocialAccount.objects.create(user=user, provider="github", uid="4242")
        code = self.code_for("new@example.com")
        response = self.post(client, user, {"email": "new@example.com", "otp": code})
        assert response.status_code == 403
        assert response.json() == error(
            "Your email cannot be changed: you have signed in with an external login provider using it."
        )
        assert OneTimePassword.objects.get(email="new@example.com").consumed_at is None

    def test_refused_with_a_pro_tier(self, client, user):
        with mock.patch("apps.accounts.profile.tier_info", return_value=TierInfo(tier=2)):
            response = self.post(client, user, {"email": "new@example.com", "otp": self.code_for("new@example.com")})
        assert response.status_code == 403
        assert response.json() == error("Your email cannot be changed while your account has a PRO tier.")

    def test_refused_with_a_merchant_processor_subscription(self, client, user):
        subscription = {"merchantProcessor": "stripe", "tier": 0, "productID": "pro-monthly"}
        tier = TierInfo(tier=0, merchant_processor="stripe", subscriptions=[subscription])
        with mock.patch("apps.accounts.profile.tier_info", return_value=tier):
            response = self.post(client, user, {"email": "new@example.com", "otp": self.code_for("new@example.com")})
        assert response.status_code == 403
        assert response.json() == error(
            "Your email cannot be changed while you have a subscription through a merchant processor."
        )


# --- setSelfUserProfilePicture --------------------------------------------------------------------


class TestProfilePicture:
    url = "/setSelfUserProfilePicture"

    def post(self, client, user, picture):
        return client.post(self.url, {"profilePicture": picture}, format="json", **as_user(user))

    @pytest.mark.parametrize(
        ("fmt", "mime"),
        [
            ("PNG", "image/png"),
            ("JPEG", "image/jpeg"),
            ("JPEG", "image/jpg"),
            ("TIFF", "image/tiff"),
            ("WEBP", "image/webp"),
        ],
    )
    def test_each_accepted_format_is_stored_as_a_128_px_webp(self, client, user, fmt, mime):
        response = self.post(client, user, data_uri(image_bytes((300, 200), fmt), mime))
        assert response.status_code == 200
        uri = response.json()["payload"]["profilePicture"]
        assert response.json() == ok({"profilePicture": uri})
        picture = decoded_picture(uri)
        assert (picture.format, picture.size) == ("WEBP", (128, 128))
        assert bytes(User.objects.get(pk=user.pk).profile_picture) == base64.b64decode(uri.split(",", 1)[1])

    def test_the_sniffed_type_counts_not_the_declared_one(self, client, user):
        response = self.post(client, user, data_uri(image_bytes(fmt="PNG"), "image/gif"))
        assert response.status_code == 200
        gif = self.post(client, user, data_uri(image_bytes(fmt="GIF"), "image/png"))
        assert gif.status_code == 400
        assert gif.json() == error(
            "profilePicture: GIF images are not accepted for profile pictures. "
            "Profile pictures must be JPEG, PNG, TIFF or WebP images."
        )

    def test_an_empty_string_removes_the_picture(self, client, user):
        self.post(client, user, data_uri(image_bytes()))
        response = self.post(client, user, "")
        assert response.json() == ok({"profilePicture": ""})
        assert User.objects.get(pk=user.pk).profile_picture is None

    def test_a_banned_user_cannot_set_or_remove_it(self, client, user):
        services.set_profile_picture_banned(user=user, banned=True)
        message = "Your profile picture has been banned by a moderator: you cannot change it."
        for picture in (data_uri(image_bytes()), ""):
            response = self.post(client, user, picture)
            assert response.status_code == 403
            assert response.json() == error(message)
        assert User.objects.get(pk=user.pk).profile_picture is None

    def test_exactly_1_mb_is_accepted_and_one_byte_more_is_413(self, client, user):
        png = image_bytes((64, 64))
        padded = png + b"\0" * (MIB - len(png))
        assert self.post(client, user, data_uri(padded)).status_code == 200
        response = self.post(client, user, data_uri(padded + b"\0"))
        assert response.status_code == 413
        assert response.json()["errorMessage"].startswith("Profile pictures may be at most 1 MB (1,048,576 bytes).")

    def test_a_body_far_over_the_cap_is_refused_before_it_is_read(self, client, user):
        big = noise_png((1024, 1024))
        assert len(big) > 2 * MIB
        with mock.patch("apps.accounts.services.profile.process_image") as pipeline:
            response = self.post(client, user, data_uri(big))
        assert response.status_code == 413
        assert response.json() == error("Profile pictures may be at most 1 MB (1,048,576 bytes); send a smaller image.")
        pipeline.assert_not_called()

    def test_1024_px_a_side_at_most(self, client, user):
        assert self.post(client, user, data_uri(image_bytes((1024, 1024)))).status_code == 200
        response = self.post(client, user, data_uri(image_bytes((1025, 40))))
        assert response.status_code == 400
        assert response.json() == error(
            "profilePicture: The image is 1025x40 pixels. Profile pictures may be at most 1024x1024 pixels; "
            "send a smaller image."
        )

    @pytest.mark.parametrize("content", [png_claiming(100_000, 100_000), image_bytes((4000, 4000), color=(0, 0, 0))])
    def test_decompression_bombs_are_refused_before_decoding(self, client, user, content):
        assert len(content) < 200_000
        response = self.post(client, user, data_uri(content))
        assert response.status_code == 400
        assert response.json() == error(
            "profilePicture: Profile pictures may be at most 1024x1024 pixels; send a smaller image."
        )
        assert User.objects.get(pk=user.pk).profile_picture is None

    @pytest.mark.parametrize(
        ("picture", "message"),
        [
            (
                data_uri(b"hello, this is text", "text/plain"),
                "profilePicture: The file is not an image we can read. Profile pictures must be JPEG, PNG, TIFF or "
                "WebP images.",
            ),
            (
                "https://example.com/me.png",
                "profilePicture: The profile picture must be a base64 data URI (data:image/png;base64,…).",
            ),
            (
                "data:image/png,%89PNG",
                "profilePicture: The profile picture must be a base64 data URI (data:image/png;base64,…).",
            ),
            (
                "data:image/png;base64,***not base64***",
                "profilePicture: The profile picture's data URI does not hold valid base64.",
            ),
            ("data:image/png;base64,", "profilePicture: The file is empty. Choose an image file and upload it again."),
            (
                data_uri(image_bytes()[:60]),
                "profilePicture: The image is incomplete: the file ends before the picture does. Upload the complete "
                "file again.",
            ),
            (12345, "profilePicture: Must be a string."),
            (None, "profilePicture: This field may not be null."),
        ],
    )
    def test_anything_but_an_image_data_uri_is_400(self, client, user, picture, message):
        response = self.post(client, user, picture)
        assert response.status_code == 400
        assert response.json() == error(message)

    def test_the_field_is_mandatory_and_guests_are_401(self, client, user):
        missing = client.post(self.url, {}, format="json", **as_user(user))
        assert missing.json() == error("profilePicture: This field is required.")
        guest = client.post(self.url, {"profilePicture": ""}, format="json", **as_session(session_for()))
        assert guest.status_code == 401


# --- key-value pairs ------------------------------------------------------------------------------


class TestKeyValuePairs:
    def set(self, client, user, key, value):
        return client.post("/setUserKVP", {"key": key, "value": value}, format="json", **as_user(user))

    def get(self, client, user, key):
        return client.get("/getUserKVP", {"key": key}, **as_user(user))

    def delete(self, client, user, key):
        return client.delete(f"/deleteUserKVP?key={key}", **as_user(user))

    def test_set_get_replace_and_delete(self, client, user):
        assert self.set(client, user, "theme", "dark").json() == ok({"key": "theme", "value": "dark"})
        assert self.get(client, user, "theme").json() == ok({"key": "theme", "value": "dark"})
        assert self.set(client, user, "theme", "").json() == ok({"key": "theme", "value": ""})
        assert UserKeyValue.objects.filter(user=user).count() == 1
        assert self.delete(client, user, "theme").json() == ok({"success": True})
        assert self.delete(client, user, "theme").json() == ok({"success": False})
        missing = self.get(client, user, "theme")
        assert missing.status_code == 404
        assert missing.json() == error("No value is stored under the key 'theme'.")

    def test_values_are_kept_exactly_and_each_user_has_their_own(self, client, user):
        value = '  {"a": [1, 2]}\n\t ünïcode ✓ '
        self.set(client, user, " spaced key ", value)
        assert self.get(client, user, " spaced key ").json()["payload"]["value"] == value
        other = UserFactory()
        assert self.get(client, other, " spaced key ").status_code == 404
        assert self.delete(client, other, " spaced key ").json() == ok({"success": False})
        assert UserKeyValue.objects.filter(user=user).count() == 1

    def test_key_length_limit(self, client, user):
        assert self.set(client, user, "k" * 128, "v").status_code == 200
        message = "key: The key may be at most 128 characters long; it has 129."
        for response in (
            self.set(client, user, "k" * 129, "v"),
            self.get(client, user, "k" * 129),
            self.delete(client, user, "k" * 129),
        ):
            assert response.status_code == 400
            assert response.json() == error(message)

    def test_value_size_limit_counts_utf8_bytes(self, client, user):
        assert self.set(client, user, "ascii", "v" * 65536).status_code == 200
        over = self.set(client, user, "ascii", "v" * 65537)
        assert over.status_code == 400
        assert over.json() == error("value: The value may be at most 65,536 bytes (64 KiB) in UTF-8; it has 65,537.")
        # 32,769 two-byte characters are 65,538 bytes.
        assert self.set(client, user, "wide", "é" * 32769).status_code == 400
        assert self.get(client, user, "ascii").json()["payload"]["value"] == "v" * 65536

    def test_at_most_200_keys_but_existing_ones_can_still_change(self, client, user):
        UserKeyValue.objects.bulk_create(UserKeyValue(user=user, key=f"k{i}", value="x") for i in range(200))
        response = self.set(client, user, "one-more", "x")
        assert response.status_code == 400
        assert response.json() == error(
            "You already have 200 keys, the most a user may have. Delete one with deleteUserKVP before adding another."
        )
        assert self.set(client, user, "k7", "changed").status_code == 200
        self.delete(client, user, "k0")
        assert self.set(client, user, "one-more", "x").status_code == 200

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"key": "a", "value": 5}, "value: Must be a string."),
            ({"key": ["a"], "value": "x"}, "key: Must be a string."),
            ({"value": "x"}, "key: This field is required."),
            ({"key": "a"}, "value: This field is required."),
            ({"key": "", "value": "x"}, "key: This field may not be blank."),
        ],
    )
    def test_wrong_types_are_400(self, client, user, body, message):
        response = client.post("/setUserKVP", body, format="json", **as_user(user))
        assert response.status_code == 400
        assert response.json() == error(message)

    def test_the_key_query_parameter_is_mandatory(self, client, user):
        response = client.get("/getUserKVP", **as_user(user))
        assert response.status_code == 400
        assert response.json() == error("key: This field is required.")

    def test_not_signed_in_is_401(self, client):
        for response in (
            client.get("/getUserKVP", {"key": "a"}),
            client.post("/setUserKVP", {"key": "a", "value": "b"}, format="json", **as_session(session_for())),
            client.delete("/deleteUserKVP?key=a"),
        ):
            assert response.status_code == 401
            assert response.json() == error(NOT_SIGNED_IN)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_new_keys_never_pass_the_200_key_limit():
    user = UserFactory()
    UserKeyValue.objects.bulk_create(UserKeyValue(user=user, key=f"k{i}", value="x") for i in range(199))
    barrier = threading.Barrier(6)
    outcomes = []

    def add(index):
        try:
            barrier.wait()
            services.set_key_value(user=user, key=f"new{index}", value="x")
            outcomes.append("stored")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["InvalidInput"] * 5 + ["stored"]
    assert UserKeyValue.objects.filter(user=user).count() == 200


# --- getUser --------------------------------------------------------------------------------------


class TestGetUser:
    url = "/getUser"

    def test_anyone_sees_the_public_fields_by_user_id(self, client, user):
        services.set_profile_picture(user=user, data_uri=data_uri(image_bytes()))
        expected = ok(
            {
                "userID": str(user.pk),
                "username": "ada",
                "profilePicture": data_uri(bytes(user.profile_picture), "image/webp"),
            }
        )
        assert client.get(self.url, {"userID": str(user.pk)}).json() == expected
        assert client.get(self.url, {"userID": str(user.pk)}, **as_user(UserFactory())).json() == expected
        without_picture = UserFactory(username="bob")
        assert client.get(self.url, {"userID": str(without_picture.pk)}).json() == ok(
            {"userID": str(without_picture.pk), "username": "bob", "profilePicture": ""}
        )

    def test_users_look_up_by_user_id_only(self, client, user):
        signed_in = client.get(self.url, {"email": user.email}, **as_user(UserFactory()))
        assert signed_in.status_code == 403
        assert signed_in.json() == error(
            "Only admins can look users up by email or username; look the user up by userID."
        )
        anonymous = client.get(self.url, {"username": "ada"})
        assert anonymous.status_code == 401
        missing = client.get(self.url)
        assert missing.status_code == 400
        assert missing.json() == error("userID: Give the userID of the user.")
        malformed = client.get(self.url, {"userID": "1234"})
        assert malformed.status_code == 400
        assert malformed.json() == error("userID: Must be a valid UUID.")

    def test_deleted_and_other_sites_users_are_not_found_by_users(self, client, user):
        gone = UserFactory()
        gone.delete()
        elsewhere = UserFactory(domain=DomainFactory())
        for target in (gone, elsewhere, None):
            user_id = str(target.pk) if target else str(uuid.uuid4())
            response = client.get(self.url, {"userID": user_id}, **as_user(user))
            assert response.status_code == 404
            assert response.json() == error("No user of this site matches.")

    def test_admins_get_the_extended_fields(self, client, admin):
        target = UserFactory(
            email="grace@example.com",
            username="grace",
            is_at_least_18_confirmed=True,
            ref_list=["https://news.example.com/"],
            referrer="partner-7",
            additional_information="Asked for a refund once.",
            abuse_level=1,
            has_signed_in_with_otp=True,
        )
        target.groups.add(Group.objects.get(name="support"))
        signed_up_with = SocialAccount.objects.create(user=target, provider="google", uid="g-1")
        connected = SocialAccount.objects.create(user=target, provider="discord", uid="d-2")
        SocialAccount.objects.filter(pk=connected.pk).update(date_joined=target.date_joined + timedelta(days=3))
        SocialAccount.objects.filter(pk=signed_up_with.pk).update(date_joined=target.date_joined + timedelta(seconds=1))
        archived = ArchivedEmail.objects.create(user=target, email="old@example.com")
        target.refresh_from_db()
        counts = ItemCounts(
            item_count=12,
            root_folder_item_count=5,
            public_item_count=3,
            flagged_images_count=2,
            high_heat_images_count=1,
        )
        with mock.patch("apps.accounts.profile.item_counts", return_value=counts):
            response = client.get(self.url, {"userID": str(target.pk)}, **admin)
        assert response.status_code == 200
        assert response.json() == ok(
            {
                "userID": str(target.pk),
                "username": "grace",
                "profilePicture": "",
                "email": "grace@example.com",
                "createdDate": iso(target.date_joined),
                "updatedDate": iso(target.updated_at),
                "isDisabled": False,
                "isAtLeast18Confirmed": True,
                "tier": 0,
                "merchantProcessor": "",
                "subscriptions": [],
                "flaggedImagesCount": 2,
                "highHeatImagesCount": 1,
                "refList": ["https://news.example.com/"],
                "rs": "partner-7",
                "loginProviders": [
                    {"providerType": "internal", "providerId": "OTP"},
                    {"providerType": "oauth", "providerId": "Google", "userId": "g-1"},
                    {"providerType": "oauth", "providerId": "Discord", "userId": "d-2"},
                ],
                "connectProviders": [{"providerType": "oauth", "providerId": "Discord", "userId": "d-2"}],
                "abuse": 1,
                "profilePictureBanned": False,
                "archivedEmails": [{"email": "old@example.com", "archivedDate": iso(archived.archived_at)}],
                "itemCount": 12,
                "publicItemCount": 3,
                "rootFolderItemCount": 5,
                "additionalInformation": "Asked for a refund once.",
                "roles": ["support"],
            }
        )

    def test_tier_fields_come_from_the_owning_app(self, client, admin, user):
        subscription = {"merchantProcessor": "stripe", "tier": 2, "productID": "pro"}
        tier = TierInfo(
            tier=2,
            tier_expiration="2031-01-01T00:00:00.000Z",
            merchant_processor="stripe",
            subscriptions=[subscription],
        )
        with mock.patch("apps.accounts.profile.tier_info", return_value=tier):
            payload = client.get(self.url, {"userID": str(user.pk)}, **admin).json()["payload"]
        assert (payload["tier"], payload["tierExpiration"], payload["merchantProcessor"]) == (
            2,
            "2031-01-01T00:00:00.000Z",
            "stripe",
        )
        assert payload["subscriptions"] == [subscription]

    def test_admins_look_up_by_email_or_username_and_see_deleted_users(self, client, admin, user):
        by_email = client.get(self.url, {"email": "ADA@example.com"}, **admin).json()["payload"]
        by_username = client.get(self.url, {"username": "Ada"}, **admin).json()["payload"]
        assert by_email["userID"] == by_username["userID"] == str(user.pk)
        services.delete_user(user=user)
        deleted = client.get(self.url, {"email": "ada@example.com"}, **admin).json()["payload"]
        stored = User.all_objects.get(pk=user.pk)
        assert deleted["isDisabled"] is True
        assert deleted["deletedDate"] == iso(stored.deleted_at)
        # A live user with the same email comes first.
        newcomer = UserFactory(email="ada@example.com")
        assert client.get(self.url, {"email": "ada@example.com"}, **admin).json()["payload"]["userID"] == str(
            newcomer.pk
        )

    def test_every_criterion_given_must_match(self, client, admin, user):
        UserFactory(email="other@example.com")
        response = client.get(self.url, {"userID": str(user.pk), "email": "other@example.com"}, **admin)
        assert response.status_code == 404

    def test_roles_name_the_staff_groups_and_superusers(self, client, admin):
        root = staff_with_role("moderator", is_superuser=True)
        payload = client.get(self.url, {"userID": str(root.pk)}, **admin).json()["payload"]
        assert payload["roles"] == ["moderator", "superuser"]

    def test_a_signed_in_support_member_also_sees_the_extended_fields(self, client, user):
        support = staff_with_role("support")
        payload = client.get(self.url, {"userID": str(user.pk)}, **as_user(support)).json()["payload"]
        assert payload["email"] == "ada@example.com"

    def test_an_admin_key_without_the_permission_is_refused(self, client, user):
        response = client.get(self.url, {"userID": str(user.pk)}, **as_admin_key(staff_with_role(None)))
        assert response.status_code == 403
        assert response.json() == error("The owner of this administration key may not view users' details.")


# --- deleteUser -----------------------------------------------------------------------------------


@pytest.fixture
def deletions():
    received = []

    def receiver(sender, user, delete_items, **kwargs):
        received.append((sender, user.pk, delete_items))

    user_deleted.connect(receiver, dispatch_uid="test-deletions")
    yield received
    user_deleted.disconnect(dispatch_uid="test-deletions")


class TestDeleteUser:
    url = "/deleteUser"

    def test_a_user_deletes_themself_and_is_signed_out(self, client, user, deletions):
        session, other = session_for(user), session_for(user)
        response = client.delete(self.url, **as_session(session))
        assert response.json() == ok({"success": True})
        assert User.all_objects.get(pk=user.pk).is_deleted
        assert not User.objects.filter(pk=user.pk).exists()
        assert not ApiSession.objects.usable().filter(pk__in=[session.pk, other.pk]).exists()
        assert deletions == [(User, user.pk, False)]
        assert client.delete(self.url, **as_session(session)).status_code == 401

    def test_delete_items_is_passed_on(self, client, user, deletions):
        response = client.delete(f"{self.url}?deleteItems=true", **as_user(user))
        assert response.status_code == 200
        assert deletions == [(User, user.pk, True)]

    def test_a_user_cannot_delete_someone_else(self, client, user, deletions):
        other = UserFactory()
        response = client.delete(f"{self.url}?userID={other.pk}", **as_user(user))
        assert response.status_code == 403
        assert response.json() == error("Only admins can delete other users.")
        assert User.objects.filter(pk__in=[user.pk, other.pk]).count() == 2
        assert deletions == []

    def test_naming_oneself_is_allowed(self, client, user):
        assert client.delete(f"{self.url}?userID={user.pk}", **as_user(user)).json() == ok({"success": True})

    def test_an_admin_deletes_anyone_by_user_id(self, client, admin, user, deletions):
        target_session = session_for(user)
        response = client.delete(f"{self.url}?userID={user.pk}&deleteItems=1", **admin)
        assert response.json() == ok({"success": True})
        assert User.all_objects.get(pk=user.pk).is_deleted
        assert not ApiSession.objects.usable().filter(pk=target_session.pk).exists()
        assert deletions == [(User, user.pk, True)]
        again = client.delete(f"{self.url}?userID={user.pk}", **admin)
        assert again.status_code == 404
        assert again.json() == error("No user of this site has this userID.")

    def test_an_admin_key_needs_a_user_id(self, client, admin):
        response = client.delete(self.url, **admin)
        assert response.status_code == 400
        assert response.json() == error(
            "userID: Give the userID of the user to delete (an administration key never deletes its owner)."
        )

    def test_a_moderator_may_not_delete_users(self, client, user):
        response = client.delete(f"{self.url}?userID={user.pk}", **as_admin_key(staff_with_role("moderator")))
        assert response.status_code == 403

    def test_bad_input_and_anonymous(self, client, user):
        assert client.delete(self.url).json() == error(NOT_SIGNED_IN)
        assert client.delete(self.url, **as_session(session_for())).status_code == 401
        malformed = client.delete(f"{self.url}?userID=nope", **as_user(user))
        assert malformed.status_code == 400
        assert malformed.json() == error("userID: Must be a valid UUID.")
        flag = client.delete(f"{self.url}?deleteItems=perhaps", **as_user(user))
        assert flag.status_code == 400
        assert User.objects.filter(pk=user.pk).exists()


# --- admin-only endpoints: who may call them -------------------------------------------------------


ADMIN_ENDPOINTS = [
    ("/setProfilePictureBanned", {"profilePictureBanned": True}, "moderator"),
    ("/setUserAbuseLevel", {"abuse": 1}, "moderator"),
    ("/setUserAdditionalInformation", {"additionalInformation": "note"}, "admin"),
]


@pytest.mark.parametrize(("url", "change", "least_role"), ADMIN_ENDPOINTS)
class TestAdminOnly:
    def body(self, target, change):
        return {"userID": str(target.pk), **change}

    def test_anonymous_and_guests_are_401(self, client, user, url, change, least_role):
        for headers in ({}, as_session(session_for())):
            response = client.post(url, self.body(user, change), format="json", **headers)
            assert response.status_code == 401
            assert response.json() == error(NOT_SIGNED_IN)

    def test_a_user_is_403_for_themself_and_for_another_user(self, client, user, url, change, least_role):
        other = UserFactory()
        for target in (user, other):
            response = client.post(url, self.body(target, change), format="json", **as_user(user))
            assert response.status_code == 403
            assert response.json() == error(FORBIDDEN)
        stored = User.objects.get(pk=other.pk)
        assert (stored.profile_picture_banned, stored.abuse_level, stored.additional_information) == (False, 0, "")

    def test_a_staff_key_without_the_permission_is_403(self, client, user, url, change, least_role):
        headers = as_admin_key(staff_with_role("support"))
        assert client.post(url, self.body(user, change), format="json", **headers).status_code == 403

    def test_the_role_holding_the_permission_may_by_key_or_session(self, client, user, url, change, least_role):
        staff = staff_with_role(least_role)
        for headers in (as_admin_key(staff), as_user(staff)):
            assert client.post(url, self.body(user, change), format="json", **headers).status_code == 200

    def test_the_target_is_named_and_must_exist(self, client, admin, user, url, change, least_role):
        by_email = client.post(url, {"email": "ADA@example.com", **change}, format="json", **admin)
        assert by_email.status_code == 200
        nobody = client.post(url, {"email": "nobody@example.com", **change}, format="json", **admin)
        assert nobody.status_code == 404
        assert nobody.json() == error("No user of this site has this userID or email.")
        unnamed = client.post(url, change, format="json", **admin)
        assert unnamed.status_code == 400
        assert unnamed.json() == error("Give the userID or the email of the user.")
        malformed = client.post(url, {"userID": "123", **change}, format="json", **admin)
        assert malformed.json() == error("userID: Must be a valid UUID.")

    def test_users_of_other_sites_are_out_of_reach(self, client, admin, url, change, least_role):
        elsewhere = UserFactory(domain=DomainFactory())
        assert client.post(url, self.body(elsewhere, change), format="json", **admin).status_code == 404


class TestProfilePictureBan:
    url = "/setProfilePictureBanned"

    def test_banning_removes_the_picture_and_unbanning_does_not_restore_it(self, client, admin, user):
        services.set_profile_picture(user=user, data_uri=data_uri(image_bytes()))
        banned = client.post(self.url, {"userID": str(user.pk), "profilePictureBanned": True}, format="json", **admin)
        assert banned.json() == ok({"profilePictureBanned": True})
        stored = User.objects.get(pk=user.pk)
        assert (stored.profile_picture_banned, stored.profile_picture) == (True, None)
        lifted = client.post(self.url, {"email": user.email, "profilePictureBanned": False}, format="json", **admin)
        assert lifted.json() == ok({"profilePictureBanned": False})
        stored = User.objects.get(pk=user.pk)
        assert (stored.profile_picture_banned, stored.profile_picture) == (False, None)
        # The user may set a picture again.
        response = client.post(
            "/setSelfUserProfilePicture", {"profilePicture": data_uri(image_bytes())}, format="json", **as_user(user)
        )
        assert response.status_code == 200

    def test_without_a_status_the_current_one_is_answered(self, client, admin, user):
        services.set_profile_picture_banned(user=user, banned=True)
        response = client.post(self.url, {"userID": str(user.pk)}, format="json", **admin)
        assert response.json() == ok({"profilePictureBanned": True})
        assert User.objects.get(pk=user.pk).profile_picture_banned is True

    def test_a_status_that_is_not_a_boolean_is_400(self, client, admin, user):
        response = client.post(
            self.url, {"userID": str(user.pk), "profilePictureBanned": "often"}, format="json", **admin
        )
        assert response.status_code == 400
        assert response.json() == error("profilePictureBanned: Must be a valid boolean.")


class TestAdditionalInformation:
    url = "/setUserAdditionalInformation"

    def test_set_replace_and_remove(self, client, admin, user):
        body = {"userID": str(user.pk), "additionalInformation": "  VIP, be nice.\n"}
        assert client.post(self.url, body, format="json", **admin).json() == ok(
            {"additionalInformation": "  VIP, be nice.\n"}
        )
        assert User.objects.get(pk=user.pk).additional_information == "  VIP, be nice.\n"
        for removal in ({"additionalInformation": ""}, {"additionalInformation": None}, {}):
            services.set_additional_information(user=user, text="something")
            response = client.post(self.url, {"userID": str(user.pk), **removal}, format="json", **admin)
            assert response.json() == ok({"additionalInformation": ""})
            assert User.objects.get(pk=user.pk).additional_information == ""

    def test_bad_input(self, client, admin, user):
        too_long = client.post(
            self.url, {"userID": str(user.pk), "additionalInformation": "x" * 65537}, format="json", **admin
        )
        assert too_long.status_code == 400
        assert too_long.json() == error(
            "additionalInformation: The additional information may be at most 65,536 characters long."
        )
        wrong_type = client.post(self.url, {"userID": str(user.pk), "additionalInformation": 7}, format="json", **admin)
        assert wrong_type.json() == error("additionalInformation: Must be a string.")

    def test_a_moderator_cannot_write_staff_notes(self, client, user):
        headers = as_admin_key(staff_with_role("moderator"))
        body = {"userID": str(user.pk), "additionalInformation": "x"}
        assert client.post(self.url, body, format="json", **headers).status_code == 403


class TestAbuseLevel:
    url = "/setUserAbuseLevel"

    def post(self, client, admin, user, **body):
        return client.post(self.url, {"userID": str(user.pk), **body}, format="json", **admin)

    def test_level_1_blocks_generation_only(self, client, admin, user):
        session = session_for(user)
        assert self.post(client, admin, user, abuse=1).json() == ok({"abuse": 1})
        stored = User.objects.get(pk=user.pk)
        with pytest.raises(PermissionDenied) as refused:
            services.assert_may_generate(stored)
        assert refused.value.message == (
            "Image and video generation is blocked for this account. Contact support if you think this is a mistake."
        )
        assert_may_sign_in(stored)
        assert ApiSession.objects.usable().filter(pk=session.pk).exists()

    def test_level_9_signs_out_everywhere_and_blocks_sign_in(self, client, admin, user):
        session = session_for(user)
        services.issue_access_token(user=user)
        bystander = session_for(UserFactory())
        assert self.post(client, admin, user, abuse=9).json() == ok({"abuse": 9})
        assert not ApiSession.objects.usable().filter(user=user).exists()
        assert not AccessToken.objects.usable().filter(user=user).exists()
        assert ApiSession.objects.usable().filter(pk=bystander.pk).exists()
        with pytest.raises(PermissionDenied):
            assert_may_sign_in(User.objects.get(pk=user.pk))
        assert client.get("/getUserKVP", {"key": "a"}, **as_session(session)).status_code == 401

    def test_level_9_also_revokes_a_staff_members_admin_keys(self, client, admin):
        staff = staff_with_role("admin")
        staff_key = as_admin_key(staff)
        assert self.post(client, admin, staff, abuse=9).status_code == 200
        assert not AdminKey.objects.usable().filter(user=staff).exists()
        assert client.get("/getUser", {"userID": str(staff.pk)}, **staff_key).status_code == 401

    def test_back_to_0_lifts_the_limits(self, client, admin, user):
        self.post(client, admin, user, abuse=1)
        assert self.post(client, admin, user, abuse=0).json() == ok({"abuse": 0})
        services.assert_may_generate(User.objects.get(pk=user.pk))

    @pytest.mark.parametrize("level", [None, "high", 10, -1, 2.5, True, [1], {"level": 1}])
    def test_a_missing_or_invalid_level_answers_the_current_one(self, client, admin, user, level):
        services.set_abuse_level(user=user, level=1)
        body = {} if level is None else {"abuse": level}
        response = self.post(client, admin, user, **body)
        assert response.json() == ok({"abuse": 1})
        assert User.objects.get(pk=user.pk).abuse_level == 1

    def test_a_level_sent_as_a_numeric_string_is_used(self, client, admin, user):
        assert self.post(client, admin, user, abuse="9").json() == ok({"abuse": 9})


def test_guests_may_generate_and_level_0_users_too():
    services.assert_may_generate(None)
    services.assert_may_generate(UserFactory())


# --- API2 getUserSession --------------------------------------------------------------------------


class TestGetUserSession:
    url = "/2/getUserSession"

    def test_without_a_pro_tier_it_is_refused(self, client, user):
        response = client.get(self.url, **as_user(user))
        assert response.status_code == 403
        assert response.json() == error("API2 endpoints are only available to users whose PRO tier is higher than 0.")

    def test_with_a_pro_tier_it_answers_the_session_and_the_user(self, client):
        domain = DomainFactory(code="freejourney")
        DomainHostFactory(domain=domain, hostname="api.freejourney.test")
        user = UserFactory(domain=domain, email="pro@example.com", username="pro", is_at_least_18_confirmed=True)
        user.groups.add(Group.objects.get(name="moderator"))
        session = session_for(user, domain=domain)
        counts = ItemCounts(flagged_images_count=4)
        with (
            mock.patch("apps.accounts.profile.tier_info", return_value=TierInfo(tier=1)),
            mock.patch("apps.accounts.profile.item_counts", return_value=counts),
        ):
            response = client.get(self.url, HTTP_HOST="api.freejourney.test", **as_session(session))
        assert response.status_code == 200
        session.refresh_from_db()
        assert response.json() == ok(
            {
                "userSession": {
                    "_id": str(session.pk),
                    "domain": "freejourney",
                    "isAtLeast18Confirmed": True,
                    "updatedDate": iso(session.updated_at),
                    "userID": str(user.pk),
                },
                "user": {
                    "_id": str(user.pk),
                    "email": "pro@example.com",
                    "username": "pro",
                    "domain": "freejourney",
                    "createdDate": iso(user.date_joined),
                    "isDisabled": False,
                    "roles": ["moderator"],
                    "flaggedImagesCount": 4,
                },
            }
        )

    def test_guests_and_anonymous_are_401(self, client):
        assert client.get(self.url).json() == error(NOT_SIGNED_IN)
        assert client.get(self.url, **as_session(session_for())).status_code == 401
