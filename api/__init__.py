"""The HTTP adapter: the JSON API and the duty officers' console. Reaches the core only through
the services the composition root (app.bootstrap) hands to `api.main.create_app`."""
