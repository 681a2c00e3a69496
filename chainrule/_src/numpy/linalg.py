"""chainrule.numpy functions: linalg family (see the module docstring once filled)."""
