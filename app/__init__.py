"""The application shell: the `patrol` command, the demo, and the composition root.

The only package that imports both the API (api/) and the crawlers (crawlers/): it builds the
core's services (app.bootstrap) and hands them to whichever adapter a command runs. The core
(patrol/) imports none of this."""
