"""Small DRF base views that every service's API versions share."""

from rest_framework.generics import GenericAPIView


# No docstrings on these bases: drf-spectacular would publish them as every subclass's description.
class CollectionApi(GenericAPIView):
    # A collection endpoint: filtered by the version's filterset, paginated by its paginator.

    def list_response(self, serializer_class):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(serializer_class(page, many=True).data)
