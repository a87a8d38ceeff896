"""The HTTP plumbing every blueprint shares, and nothing about any domain: the request lifecycle
(`middleware`), where errors become responses (`errors`), CORS (`cors`), the envelope and input parsing
(`api`, `jsonbody`), the app's Config (`app_config`), the OpenAPI document (`openapi`), the request objects
for hot code (`request_context`) and `/health` and `/ready` (`health`)."""
