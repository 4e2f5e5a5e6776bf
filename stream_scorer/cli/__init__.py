"""The `stream-scorer` command line: `main` parses arguments, `commands/` holds each verb."""
