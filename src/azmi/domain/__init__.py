"""Pure models and rules. Imports nothing from the rest of azmi except errors and ids."""
