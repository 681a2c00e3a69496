"""chainrule.numpy functions: shape family (see the module docstring once filled)."""
