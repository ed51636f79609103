"""The telemetry handler's operations, one module each (see `_handler`)."""
