"""Social sign-in as better-auth 1.7.25 does it: providers, the OAuth/OIDC protocol (through Authlib), the
state kept across the redirect, and how a provider's person becomes a user and an account row."""
