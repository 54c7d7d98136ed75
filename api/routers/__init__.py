"""The API's routers: each declares the conformance classes it implements."""
