"""AIMG "Private Folder Management", "Public Folder Management" and "Common Folder Management".

Private folder ids are UUIDs, public ones ``p-<uuid>``, on input and output; an endpoint of one kind
refuses an id of the other with 400. Every endpoint but ``getPublicFolders`` needs a signed-in user
(guests have no folders); ``getPublicFolders`` needs a session (guest or signed in). A folder of
someone else, an unknown or a deleted one is a 404. Lists are keyset paginated on the creation time
with an exact ``totalCount`` and a constant number of queries per page. Bodies are JSON.
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.dialects.aimg import AimgViewSet, pagination_parameters
from apps.core.dialects.base import parse_body, parse_query
from apps.core.dialects.parsers import LimitedJSONParser
from apps.core.dialects.permissions import HasApiSession, IsSignedIn
from apps.core.errors import NotFound
from apps.items.api.schemas import ITEM_RESULTS

from .. import selectors, services
from ..models import Folder
from .schemas import PUBLIC_FOLDER, PUBLIC_FOLDERS, SELF_FOLDER, SELF_FOLDERS
from .serializers import (
    PRIVATE_ID_SCHEMA,
    PUBLIC_ID_SCHEMA,
    CreateFolderBody,
    FolderBodies,
    FolderListQuery,
    MoveItemsBody,
    PublicFolderListQuery,
    folder_id_schema,
    folder_payload,
    id_list_schema,
)

PRIVATE_TAGS = ["Private Folder Management"]
PUBLIC_TAGS = ["Public Folder Management"]
COMMON_TAGS = ["Common Folder Management"]


# --- schema helpers ------------------------------------------------------------------------------------


def _q(name, kind, description="", required=False, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, description=description, **kwargs)


PAGINATION_PARAMETERS = pagination_parameters("folders")
_SUCCESS = inline_serializer("FolderSuccess", {"success": serializers.BooleanField()})
_THUMBNAILS = inline_serializer(
    "FolderThumbnailsOutcome",
    {
        "success": serializers.BooleanField(),
        "modified": serializers.ListField(child=serializers.CharField()),
        "actual": serializers.ListField(child=serializers.CharField()),
    },
)


# --- views ---------------------------------------------------------------------------------------------


class FolderViewSet(AimgViewSet):
    """The nine actions each kind of folder has; ``public`` says which kind a subclass serves."""

    public = False
    bodies: FolderBodies
    queryset = Folder.objects.none()  # for the schema; actions read through the selectors
    parser_classes = (LimitedJSONParser,)
    pagination_total_count = True  # "the exact total number of Folders"

    def get_permissions(self):
        # Anyone with a session may list public folders; everything else needs a signed-in user.
        if self.public and self.action == "list_folders":
            return [HasApiSession()]
        return [IsSignedIn()]

    # helpers
    def _own(self, ref) -> Folder:
        return selectors.own_folder(self.request.user, ref)

    def _one(self, folder: Folder) -> Response:
        """The Folder object of one of the caller's folders, as its owner sees it."""
        viewer = self.request.user
        shown = selectors.with_image_count(Folder.objects.filter(pk=folder.pk), viewer).first()
        if shown is None:
            raise NotFound(selectors.NOT_FOUND)
        return Response(folder_payload(shown, preview=selectors.previews([shown], viewer), request=self.request))

    def _page(self, folders) -> Response:
        viewer = self.request.user
        folders = selectors.with_image_count(folders, viewer)
        page = self.paginator.paginate_queryset(folders, self.request, view=self)
        preview = selectors.previews(page, viewer)
        return self.paginator.get_paginated_response(
            [folder_payload(folder, preview=preview, request=self.request) for folder in page]
        )

    def _filter_ids(self, folders, raw: str | None):
        if raw is None:
            return folders
        refs = selectors.parse_folder_ids(raw, public=self.public)
        return folders.filter(pk__in=[ref.pk for ref in refs])

    # actions
    def list_folders(self, request):
        if self.public:
            data = parse_query(PublicFolderListQuery, request)
            folders = selectors.listed_public_folders(request.user, domain=request.domain)
            if data.get("userID"):
                folders = folders.filter(owner_id=data["userID"])
        else:
            data = parse_query(FolderListQuery, request)
            folders = selectors.own_folders(request.user).filter(is_public=False)
        return self._page(self._filter_ids(folders, data.get("folderIDs")))

    def create_folder(self, request):
        data = parse_body(CreateFolderBody, request)
        folder = services.create_folder(
            owner=request.user, name=data["name"], description=data.get("description", ""), is_public=self.public
        )
        return self._one(folder)

    def set_properties(self, request):
        data = parse_body(self.bodies.properties, request)
        folder = services.update_folder(
            folder=self._own(data["folderID"]), name=data.get("folderName"), description=data.get("folderDescription")
        )
        return self._one(folder)

    def delete_folder(self, request):
        data = parse_query(self.bodies.folder_query, request)
        services.delete_folder(folder=self._own(data["folderID"]))
        return Response({"success": True})

    def add_images(self, request):
        data = parse_body(self.bodies.items, request)
        result = services.add_items(folder=self._own(data["folderID"]), item_ids=data["imageIDs"])
        return Response({"success": result.success})

    def remove_images(self, request):
        data = parse_body(self.bodies.items, request)
        result = services.remove_items(folder=self._own(data["folderID"]), item_ids=data["imageIDs"])
        return Response({"success": result.success})

    def add_thumbnails(self, request):
        data = parse_body(self.bodies.items, request)
        outcome = services.add_thumbnails(folder=self._own(data["folderID"]), item_ids=data["imageIDs"])
        return Response(outcome.as_dict())

    def remove_thumbnails(self, request):
        data = parse_body(self.bodies.items, request)
        outcome = services.remove_thumbnails(folder=self._own(data["folderID"]), item_ids=data["imageIDs"])
        return Response(outcome.as_dict())

    def set_thumbnails(self, request):
        data = parse_body(self.bodies.thumbnails, request)
        outcome = services.set_thumbnails(folder=self._own(data["folderID"]), item_ids=data["imageIDs"])
        return Response(outcome.as_dict())


def _operations(kind: str, tags: list, bodies: FolderBodies, *, public: bool) -> dict:
    """The documented operation of each action, for one kind of folder (Self or Public)."""
    who = "public" if public else "private"
    folder_id = _q("folderID", folder_id_schema(public), f"The {who} folder.", required=True)
    list_parameters = [
        _q(
            "folderIDs",
            id_list_schema(PUBLIC_ID_SCHEMA if public else PRIVATE_ID_SCHEMA, description=f"{who} folder ids"),
            f"Comma-separated {who} folder ids: only these folders.",
            style="form",
            explode=False,
        ),
        *PAGINATION_PARAMETERS,
    ]
    if public:
        list_parameters.insert(0, _q("userID", OpenApiTypes.UUID, "Only the public folders of this user."))
    folder = {200: PUBLIC_FOLDER if public else SELF_FOLDER}
    folders = {200: PUBLIC_FOLDERS if public else SELF_FOLDERS}
    return {
        "list_folders": extend_schema(
            operation_id=f"get{kind}Folders", tags=tags, parameters=list_parameters, responses=folders
        ),
        "create_folder": extend_schema(
            operation_id=f"create{kind}Folder", tags=tags, request=CreateFolderBody, responses=folder
        ),
        "set_properties": extend_schema(
            operation_id=f"set{kind}FolderProperties", tags=tags, request=bodies.properties, responses=folder
        ),
        "delete_folder": extend_schema(
            operation_id=f"delete{kind}Folder", tags=tags, parameters=[folder_id], responses={200: _SUCCESS}
        ),
        "add_images": extend_schema(
            operation_id=f"addImagesTo{kind}Folder", tags=tags, request=bodies.items, responses={200: _SUCCESS}
        ),
        "remove_images": extend_schema(
            operation_id=f"removeImagesFrom{kind}Folder", tags=tags, request=bodies.items, responses={200: _SUCCESS}
        ),
        "add_thumbnails": extend_schema(
            operation_id=f"addThumbnailImagesFor{kind}Folder",
            tags=tags,
            request=bodies.items,
            responses={200: _THUMBNAILS},
        ),
        "remove_thumbnails": extend_schema(
            operation_id=f"removeThumbnailImagesFor{kind}Folder",
            tags=tags,
            request=bodies.items,
            responses={200: _THUMBNAILS},
        ),
        "set_thumbnails": extend_schema(
            operation_id=f"setThumbnailImagesFor{kind}Folder",
            tags=tags,
            request=bodies.thumbnails,
            responses={200: _THUMBNAILS},
        ),
    }


def _folder_viewset(kind: str, tags: list, *, public: bool) -> type[FolderViewSet]:
    """The ViewSet of one kind of folder: FolderViewSet's actions, each documented under its own
    operation id (the decorated methods are the subclass's own, so nothing leaks between kinds)."""
    bodies = FolderBodies(kind, public)
    attrs = {"public": public, "bodies": bodies, "__module__": __name__, "__doc__": f"The {kind} folder endpoints."}
    for action, document in _operations(kind, tags, bodies, public=public).items():
        inherited = getattr(FolderViewSet, action)

        def method(self, request, _inherited=inherited):
            return _inherited(self, request)

        method.__name__ = method.__qualname__ = action
        attrs[action] = document(method)
    return type(f"{kind}FolderViewSet", (FolderViewSet,), attrs)


SelfFolderViewSet = _folder_viewset("Self", PRIVATE_TAGS, public=False)
PublicFolderViewSet = _folder_viewset("Public", PUBLIC_TAGS, public=True)


class MoveItemsViewSet(AimgViewSet):
    permission_classes = (IsSignedIn,)
    queryset = Folder.objects.none()
    parser_classes = (LimitedJSONParser,)
    pagination_class = None

    def _folder(self, ref):
        return None if ref is None else selectors.own_folder(self.request.user, ref)

    @extend_schema(
        operation_id="moveItemsBetweenFolders", tags=COMMON_TAGS, request=MoveItemsBody, responses={200: ITEM_RESULTS}
    )
    def move_items(self, request):
        data = parse_body(MoveItemsBody, request)
        outcomes = services.move_items(
            owner=request.user,
            source=self._folder(data["sourceFolderID"]),
            destination=self._folder(data["destinationFolderID"]),
            item_ids=data["imageIDs"],
        )
        return Response([outcome.as_dict() for outcome in outcomes])


def _route(route: str, viewset, method: str, action: str):
    return path(route, viewset.as_view({method: action}), name=route)


def _routes(kind: str, viewset) -> list:
    return [
        _route(f"get{kind}Folders", viewset, "get", "list_folders"),
        _route(f"create{kind}Folder", viewset, "post", "create_folder"),
        _route(f"set{kind}FolderProperties", viewset, "post", "set_properties"),
        _route(f"delete{kind}Folder", viewset, "delete", "delete_folder"),
        _route(f"addImagesTo{kind}Folder", viewset, "post", "add_images"),
        _route(f"removeImagesFrom{kind}Folder", viewset, "post", "remove_images"),
        _route(f"addThumbnailImagesFor{kind}Folder", viewset, "post", "add_thumbnails"),
        _route(f"removeThumbnailImagesFor{kind}Folder", viewset, "post", "remove_thumbnails"),
        _route(f"setThumbnailImagesFor{kind}Folder", viewset, "post", "set_thumbnails"),
    ]


urlpatterns = [
    *_routes("Self", SelfFolderViewSet),
    *_routes("Public", PublicFolderViewSet),
    _route("moveItemsBetweenFolders", MoveItemsViewSet, "post", "move_items"),
]
