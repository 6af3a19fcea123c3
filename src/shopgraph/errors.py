"""The base of every error shopgraph reports to a user as one clear line."""


class ShopgraphError(Exception):
    """A failure whose message says what went wrong, where (file, row, rule or key) and how to fix it."""
