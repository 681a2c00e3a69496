"""Test-suite settings: a failure to compile (jit, linearize, a recurring backward
pass) raises instead of running the program uncompiled, so a code-generation bug fails
a test instead of becoming a slow path nobody sees."""
import chainrule as cr

cr.config.update("compile_errors", "raise")
