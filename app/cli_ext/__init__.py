"""CLI extensions: every module here exposes `register(cli, import_cli)` and adds its commands."""
