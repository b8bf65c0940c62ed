"""Developer tools (screenshots, document samples): run from a checkout, never shipped."""
