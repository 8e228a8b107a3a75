"""DEQ Studio engine: solvers, implicit layers, models, media, datasets, tasks. Imports no Qt."""
from engine.allocator import keep_freed_memory

keep_freed_memory()
