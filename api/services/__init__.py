"""What the API does, one module per noun, called by both the JSON routes and the console pages.

A service takes the app's `services` (patrol.bootstrap's bundle), the acting user's name where one
acts, and plain values; it returns the API's shapes (api.schemas) and raises the core's own errors
(patrol.store.NotFound, patrol.reviews.TransitionError, ...), which api.errors turns into HTTP answers
and the console into messages. Nothing here knows about requests, forms or routers, so a route
module never needs another route module.
"""
