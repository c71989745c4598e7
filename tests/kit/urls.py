"""Views that raise what real views raise, to test the kit's error handling in isolation."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from services.kit.idempotency import idempotent
from services.kit.pagination import CursorPagination, PageNumberPagination
from services.kit.urls import fallback_patterns, health_patterns
from tests.kit.app.models import Note


class Item(serializers.Serializer):
    name = serializers.CharField()


class Order(serializers.Serializer):
    items = Item(many=True)
    tags = serializers.ListField(child=serializers.IntegerField())
    meta = serializers.DictField(child=serializers.IntegerField(), required=False)


class Echo(APIView):
    def post(self, request):
        serializer = Order(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class Raises(APIView):
    errors = {
        "django-validation": lambda: DjangoValidationError({"a/b~c": "Bad."}),
        "throttled": lambda: exceptions.Throttled(wait=7),
        "denied": lambda: exceptions.PermissionDenied("Not yours."),
        "crash": lambda: RuntimeError("secret internals: password=hunter2"),
    }

    def get(self, request, kind):
        raise self.errors[kind]()


class Notes(generics.ListAPIView):
    """A note per POST (with ``fail``: a 503 after writing it); GET lists them a page at a time."""

    class Out(serializers.Serializer):
        id = serializers.IntegerField()
        question = serializers.CharField()

    serializer_class = Out
    pagination_class = PageNumberPagination

    def get_queryset(self):
        return Note.objects.order_by("id")

    @idempotent(required=True)
    def post(self, request):
        note = Note.objects.create(
            question=request.data.get("question", "?"),
            idempotency_key=f"note-{Note.objects.count()}",
        )
        if request.data.get("fail"):
            return Response({"detail": "Try again."}, status=503)
        return Response({"id": note.pk}, status=201, headers={"Location": f"/notes/{note.pk}"})


class NotesByCursor(Notes):
    pagination_class = CursorPagination


def plain_404(request):
    raise Http404("No such thing.")


urlpatterns = [
    path("raise/http404", plain_404),
    *health_patterns,
    path("echo", Echo.as_view()),
    path("notes", Notes.as_view()),
    path("notes-by-cursor", NotesByCursor.as_view()),
    path("raise/<str:kind>", Raises.as_view()),
    *fallback_patterns,
]
