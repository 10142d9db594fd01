"""The az-style command line of azmi: an HTTP client of the ARM surface (mirrors `az`)."""
