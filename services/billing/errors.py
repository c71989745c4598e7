from services.kit.errors import Conflict


class OrderConflict(Conflict):
    """The order's state does not allow this (closed, paid, nothing pending, more than is due)."""

    default_detail = "The order's state does not allow this."
