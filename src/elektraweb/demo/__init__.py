"""Sample configuration for `elektra-web demo` (see `sample`)."""
