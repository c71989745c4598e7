from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """``OPTIONS``: what the endpoint renders and parses. The published contract describes the
    fields; DRF's field listing would need every view to name one serializer, and ours have one
    per operation."""

    def determine_actions(self, request, view):
        return {}
