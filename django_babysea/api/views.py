"""The REST API's views: thin wrappers that check the policy, call one service and render.

Every queryset goes through the permission policy's ``scope_queryset``, so another user's
generation is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import generics, status  # type: ignore[import-untyped]
from rest_framework.exceptions import NotFound, PermissionDenied  # type: ignore[import-untyped]
from rest_framework.pagination import PageNumberPagination  # type: ignore[import-untyped]
from rest_framework.permissions import IsAuthenticated  # type: ignore[import-untyped]
from rest_framework.request import Request  # type: ignore[import-untyped]
from rest_framework.response import Response  # type: ignore[import-untyped]
from rest_framework.views import APIView  # type: ignore[import-untyped]

from django_babysea.etags import etag_of, not_modified
from django_babysea.models import Generation
from django_babysea.policy import get_policy
from django_babysea.services import cancel_generation, delete_generation, load_catalog

from .body import check_model, take_kind
from .dates import GenerationListFilter
from .errors import ApiError, handle_exception
from .openapi import BabySeaSchema
from .serializers import CatalogModelSerializer, GenerationSerializer, status_payload
from .submit import submit
from .throttling import BabySeaThrottle

__all__ = [
    "GenerationCancelView",
    "GenerationDetailView",
    "GenerationListView",
    "GenerationStatusView",
    "ModelListView",
]


class GenerationPagination(PageNumberPagination):  # type: ignore[misc]
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BabySeaAPIView(APIView):  # type: ignore[misc]
    """Authenticated users only; errors as ``{code, detail}``; the ``babysea_read`` throttle."""

    permission_classes: ClassVar[list[Any]] = [IsAuthenticated]
    throttle_classes: ClassVar[list[Any]] = [BabySeaThrottle]
    throttle_scope = "babysea_read"
    # The OpenAPI description (drf-spectacular's, when installed): see api/schema.py.
    schema = BabySeaSchema()

    def get_exception_handler(self) -> Any:
        return handle_exception

    def scoped(self) -> QuerySet[Generation]:
        queryset = Generation.objects.prefetch_related("outputs")
        return get_policy().scope_queryset(self.request.user, queryset)

    def generation(self, pk: str, action: str) -> Generation:
        """The generation ``pk`` if the user may see it (else 404) and do ``action`` (else 403)."""
        try:
            generation = self.scoped().get(pk=pk)
        except (Generation.DoesNotExist, ValueError, ValidationError) as exc:  # not a UUID
            raise NotFound() from exc
        if not get_policy().has_permission(self.request.user, "view", generation):
            raise NotFound()
        if action != "view" and not get_policy().has_permission(
            self.request.user, action, generation
        ):
            raise PermissionDenied()
        return generation


class GenerationListView(BabySeaAPIView, generics.ListAPIView):  # type: ignore[misc]
    """``GET``: the user's generations (paginated, filtered); ``POST``: submit a new one."""

    serializer_class = GenerationSerializer
    pagination_class = GenerationPagination
    filter_backends: ClassVar[list[Any]] = [DjangoFilterBackend]
    filterset_class = GenerationListFilter

    def get_queryset(self) -> QuerySet[Generation]:
        return self.scoped()

    def get_throttles(self) -> list[Any]:
        self.throttle_scope = "babysea_submit" if self.request.method == "POST" else "babysea_read"
        return super().get_throttles()  # type: ignore[no-any-return]

    def post(self, request: Request) -> Response:
        if not get_policy().has_permission(request.user, "submit"):
            raise PermissionDenied()
        check_model(request.data)
        take_kind(request.data)
        generation, created = submit(request)
        fresh = Generation.objects.prefetch_related("outputs").get(pk=generation.pk)
        return Response(
            GenerationSerializer(fresh, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class GenerationDetailView(BabySeaAPIView):
    """``GET``: one generation; ``DELETE``: delete its files at BabySea and the local copies.

    ``id`` (the URL's name, as in the schema's ``{id}``) is the local generation's primary key.
    """

    def get(self, request: Request, id: str) -> Response:
        return Response(GenerationSerializer(self.generation(id, "view")).data)

    def delete(self, request: Request, id: str) -> Response:
        generation = self.generation(id, "delete")
        if not generation.is_terminal:
            raise ApiError(
                409, "not_deletable", "Only a finished generation can be deleted; cancel it first."
            )
        delete_generation(generation)
        fresh = Generation.objects.prefetch_related("outputs").get(pk=generation.pk)
        return Response(GenerationSerializer(fresh).data)


class GenerationCancelView(BabySeaAPIView):
    """``POST``: cancel the generation (at BabySea when it was sent)."""

    throttle_scope = "babysea_submit"

    def post(self, request: Request, id: str) -> Response:
        generation = cancel_generation(self.generation(id, "cancel"))
        fresh = Generation.objects.prefetch_related("outputs").get(pk=generation.pk)
        return Response(GenerationSerializer(fresh).data)


class GenerationStatusView(BabySeaAPIView):
    """``GET``: the small status body for polling, with an ``ETag`` (304 when unchanged)."""

    def get(self, request: Request, id: str) -> Response:
        payload = status_payload(self.generation(id, "view"))
        etag = etag_of(payload)
        if not_modified(request, etag):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response(payload)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


class ModelListView(BabySeaAPIView):
    """``GET``: the cached model catalog (fetched again when older than ``CATALOG_TTL``)."""

    def get(self, request: Request) -> Response:
        state = load_catalog()
        return Response(
            {
                "stale": state.stale,
                "error": state.error,
                "models": CatalogModelSerializer(state.models, many=True).data,
            }
        )
