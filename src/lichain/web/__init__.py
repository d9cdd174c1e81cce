"""lichain's REST API and, later, its web dashboard: an adapter over the same use cases as the CLI.

Build the app with :func:`lichain.web.app.create_app`; run it with ``lichain serve``.
"""

__all__: list[str] = []
