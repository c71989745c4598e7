"""Views that raise what real views raise, to test the kit's error handling in isolation."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from services.kit.urls import fallback_patterns, health_patterns


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


def plain_404(request):
    raise Http404("No such thing.")


urlpatterns = [
    path("raise/http404", plain_404),
    *health_patterns,
    path("echo", Echo.as_view()),
    path("raise/<str:kind>", Raises.as_view()),
    *fallback_patterns,
]
