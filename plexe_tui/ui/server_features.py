"""Optional endpoints a server was seen to offer, learned by trying them.

Batch predictions and DELETE of a model are extensions of the local engine
that the hosted platform may lack. The app tries each when the user asks for
it. A 404 or 405 for the route records that the server lacks it, so the app
falls back or hides the action for the rest of the session.
"""

from __future__ import annotations

from dataclasses import dataclass

# Status codes that mean "this server has no such route".
MISSING_ROUTE_CODES = frozenset({404, 405})


@dataclass
class ServerFeatures:
    """The optional endpoints of this app's server; None means not tried yet."""

    batch_predictions: bool | None = None
    """`POST /models/{name}/{version}/predictions`."""
    delete_models: bool | None = None
    """`DELETE /models/{name}/{version}`."""
