"""The built-in page in a real browser (Debian's chromium through pytest-playwright): its server, data and helpers."""
