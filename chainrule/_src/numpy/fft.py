"""chainrule.numpy functions: fft family (see the module docstring once filled)."""
