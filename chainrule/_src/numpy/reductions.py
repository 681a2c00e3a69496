"""chainrule.numpy functions: reductions family (see the module docstring once filled)."""
