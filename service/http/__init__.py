"""Everything that knows about HTTP: the app factory, one router per concern, middleware,
error handlers, dependencies, request bodies, responses, schemas and the OpenAPI document."""
