"""One module per CLI command. Each exposes ``register(subparsers)``; handlers import heavy
libraries lazily. Shared option helpers live in :mod:`benchseal.commands._common`."""
