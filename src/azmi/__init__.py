"""azmi: a local, faithful implementation of Azure Managed Identities."""

__version__ = "0.1.0"
