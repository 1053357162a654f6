"""Connection set-up: nothing per-connection is needed beyond the settings' init_command."""
