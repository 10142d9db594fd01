"""Use cases, one method per operation; the only layer that combines domain, tokens and store."""
