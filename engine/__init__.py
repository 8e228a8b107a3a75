"""DEQ Studio engine: solvers, implicit layers, models, signals, tasks. Imports no Qt."""
