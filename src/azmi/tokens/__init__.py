"""Token claims (pure), signing keys with their JWKS, and RS256 sign/verify."""
