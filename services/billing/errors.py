from rest_framework import exceptions


class OrderConflict(exceptions.APIException):
    """The order's state does not allow this (closed, paid, nothing pending, more than is due).

    A DRF exception so that the kit renders it as a 409 problem wherever it is raised.
    """

    status_code = 409
    default_detail = "The order's state does not allow this."
    default_code = "conflict"
