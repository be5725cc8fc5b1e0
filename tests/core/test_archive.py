"""Untrusted ZIP archives (apps.core.media.archive): caps checked before anything is decompressed,
member by member reading, and every bad member skipped with its reason."""

import io
import os
import zipfile

import pytest

from apps.core.media.archive import (
    ArchiveLimits,
    ArchiveRejected,
    Member,
    MemberSkipped,
    Skipped,
    is_archive,
    label,
    open_archive,
    safe_parts,
)
from tests.sartiq_support import image_bytes
from tests.subjects.zips import Raw, many_members, raw_zip, with_declared_count, zeros, zip_bytes


def entries(archive) -> list:
    return list(archive.members())


def rejected(content: bytes, code: str, **limits) -> ArchiveRejected:
    with pytest.raises(ArchiveRejected) as caught:
        open_archive(io.BytesIO(content), limits=ArchiveLimits(**limits) if limits else None)
    assert caught.value.code == code
    assert list(caught.value.errors) == [("file",)]
    return caught.value


# --- good archives --------------------------------------------------------------------------------


def test_members_are_read_in_directory_order_without_folders():
    png = image_bytes()
    content = zip_bytes(
        {"anna/": b"", "anna/front_full_body.png": png, "anna/portfolio/1.png": png, "notes.txt": b"hi"}
    )
    with open_archive(io.BytesIO(content)) as archive:
        assert (archive.member_count, archive.file_count) == (4, 3)
        found = entries(archive)
        assert [type(entry) for entry in found] == [Member, Member, Member]
        first, second, third = found
        assert first.parts == ("anna", "front_full_body.png")
        assert (first.stem, first.extension, first.folders) == ("front_full_body", "png", ("anna",))
        assert second.folders == ("anna", "portfolio")
        assert first.read() == png and third.read() == b"hi"
        assert archive.bytes_read == len(png) + 2
        assert archive.find(("ANNA", "Front_Full_Body.PNG")).index == first.index
        assert archive.find(("missing.png",)) is None


def test_a_path_on_disk_is_read_too(tmp_path):
    path = tmp_path / "upload.zip"
    path.write_bytes(zip_bytes({"a.txt": b"a"}))
    with open_archive(path) as archive:
        assert entries(archive)[0].read() == b"a"
    with open_archive(str(path)) as archive:
        assert archive.file_count == 1


# --- archives refused whole -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b"not a zip at all", b"PK\x03\x04" + os.urandom(200), zip_bytes({"a.txt": b"a"})[:-10]]
)
def test_what_is_not_a_zip_is_refused(content):
    error = rejected(content, "not_a_zip")
    assert "ZIP" in error.message


def test_more_members_than_allowed_are_refused_before_the_directory_is_read(monkeypatch):
    content = many_members(10_001)

    def never(*args, **kwargs):
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    error = rejected(content, "too_many_members")
    assert error.message == "The archive has 10,001 members; at most 10,000 are allowed."


def test_exactly_the_allowed_member_count_opens():
    with open_archive(io.BytesIO(many_members(10_000))) as archive:
        assert archive.member_count == 10_000


def test_an_end_record_that_understates_the_member_count_does_not_help():
    content = with_declared_count(many_members(30), 3)
    rejected(content, "too_many_members", max_members=10)


def test_a_directory_larger_than_its_members_need_is_refused():
    content = zip_bytes({f"{'x' * 900}{index}.txt": b"" for index in range(3)})
    rejected(content, "too_many_members", max_members=2, max_ratio=100)


def test_a_zip_bomb_is_refused_by_its_ratio():
    error = rejected(zip_bytes({"bomb.png": zeros(20 * 1024 * 1024)}), "compression_ratio")
    assert "zip bomb" in error.message


def test_declared_sizes_above_the_total_cap_are_refused():
    content = zip_bytes({"a.bin": os.urandom(6000), "b.bin": os.urandom(6000)}, compression=zipfile.ZIP_STORED)
    error = rejected(content, "too_large", max_total_bytes=10_000)
    assert "12,000 bytes" in error.message


def test_members_that_share_their_data_are_refused():
    content = raw_zip([Raw("a.png", image_bytes()), Raw("b.png", share=0), Raw("c.png", share=0)])
    rejected(content, "overlapping_members")


def test_the_error_is_located_at_the_given_field():
    with pytest.raises(ArchiveRejected) as caught:
        open_archive(io.BytesIO(b"nope"), field=("archive",))
    assert caught.value.errors == {("archive",): ["The file is not a ZIP archive."]}
    assert caught.value.errors[("archive",)][0].code == "not_a_zip"


# --- members skipped ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil.png",
        "/etc/cron.d/evil.png",
        "a/../../evil.png",
        "..\\..\\evil.png",
        "C:\\evil.png",
        "c:evil.png",
        "a/\x01.png",
    ],
)
def test_zip_slip_names_are_skipped(name):
    content = zip_bytes({name: image_bytes(), "ok.png": image_bytes()})
    with open_archive(io.BytesIO(content)) as archive:
        bad, good = entries(archive)
    assert isinstance(bad, Skipped) and bad.code == "unsafe_path"
    assert "outside the archive" in bad.reason
    assert isinstance(good, Member)


def test_safe_parts_drop_dots_and_empty_components():
    assert safe_parts("a/./b//c.png") == ("a", "b", "c.png")
    assert safe_parts("a\\b.png") == ("a", "b.png")
    assert safe_parts("./") is None
    assert safe_parts("") is None


@pytest.mark.parametrize("name", ["inner.zip", "inner.TAR.GZ", "x.7z", "x.rar", "x.tgz"])
def test_nested_archives_are_skipped_by_name(name):
    with open_archive(io.BytesIO(zip_bytes({name: zip_bytes({"a.png": image_bytes()})}))) as archive:
        (entry,) = entries(archive)
    assert (entry.code, entry.name) == ("nested_archive", name)


@pytest.mark.parametrize("payload", [zip_bytes({"a.txt": b"a"}), b"\x1f\x8b\x08\x00" + bytes(40), b"Rar!\x1a\x07\x00"])
def test_nested_archives_are_recognised_by_their_bytes(payload):
    with open_archive(io.BytesIO(zip_bytes({"front_full_body.png": payload}))) as archive:
        (member,) = entries(archive)
        with pytest.raises(MemberSkipped) as caught:
            member.read()
    assert caught.value.code == "nested_archive"


def test_a_tar_is_recognised_by_its_header():
    header = bytearray(512)
    header[257:262] = b"ustar"
    assert is_archive(bytes(header))
    assert not is_archive(image_bytes())


def test_a_member_that_expands_too_much_is_skipped():
    content = zip_bytes({"bomb.png": zeros(5 * 1024 * 1024), "noise.bin": os.urandom(200_000)})
    with open_archive(io.BytesIO(content), limits=ArchiveLimits(max_ratio=50)) as archive:
        bomb, noise = entries(archive)
    assert bomb.code == "compression_ratio" and "50 times" in bomb.reason
    assert isinstance(noise, Member)


def test_a_member_larger_than_the_cap_is_skipped():
    content = zip_bytes({"big.png": os.urandom(3000), "small.png": b"x"}, compression=zipfile.ZIP_STORED)
    with open_archive(io.BytesIO(content), limits=ArchiveLimits(max_member_bytes=2000)) as archive:
        big, small = entries(archive)
        assert small.read() == b"x"
    assert big.code == "too_large" and "2,000 bytes" in big.reason


def test_hidden_and_system_files_are_skipped():
    content = zip_bytes({"__MACOSX/._a.png": b"x", "anna/.DS_Store": b"x", ".hidden/a.png": b"x", "a.png": b"x"})
    with open_archive(io.BytesIO(content)) as archive:
        codes = [getattr(entry, "code", "member") for entry in entries(archive)]
    assert codes == ["system_file", "system_file", "system_file", "member"]


def test_encrypted_and_unknown_methods_are_skipped():
    content = raw_zip([Raw("secret.png", b"x", flags=1), Raw("odd.png", b"x", method=99), Raw("fine.png", b"ok")])
    with open_archive(io.BytesIO(content)) as archive:
        secret, odd, fine = entries(archive)
        assert fine.read() == b"ok"
    assert secret.code == "encrypted"
    assert odd.code == "unsupported_compression"


@pytest.mark.parametrize(
    "member",
    [
        Raw("crc.png", b"some bytes", crc=1234),
        Raw("short.png", b"abc", size=2),
        Raw("deflate.png", b"hello world" * 10, method=8, crc=99),
    ],
)
def test_corrupt_members_are_skipped_when_read(member):
    with open_archive(io.BytesIO(raw_zip([member]))) as archive:
        (entry,) = entries(archive)
        with pytest.raises(MemberSkipped) as caught:
            entry.read()
    assert caught.value.code == "corrupt"


def test_labels_are_printable_and_short():
    assert label("a\x07b.png") == "a?b.png"
    long = label("x" * 500)
    assert len(long) == 200 and long.endswith("…")


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        ArchiveLimits(max_members=0)
    with pytest.raises(ValueError, match="ratio"):
        ArchiveLimits(max_ratio=0.5)
