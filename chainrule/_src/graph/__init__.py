"""The Graph IR: printing, DOT, FLOP/byte counts (ir.py) and jit's code generation
(codegen.py, jit.py)."""
