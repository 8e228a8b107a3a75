"""DEQ Studio desktop application (PySide6)."""
