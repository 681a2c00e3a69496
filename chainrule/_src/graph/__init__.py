"""The one place that compiles: the Graph IR (ir.py: printing, DOT, FLOP/byte counts),
the code generator (codegen.py), and what compiles with it, sharing one cache type and
one key of arguments (cache.py): jit and linearize's tangent map (jit.py), recurring
backward passes (replay.py). Nothing below graph/ imports it."""
