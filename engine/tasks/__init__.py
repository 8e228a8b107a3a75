"""Tasks: what the loop drives. `TASKS` registers every kind (engine.tasks.kinds); base.py holds the protocol."""
from __future__ import annotations

from engine.tasks.base import DivergenceError, Schedule, Snapshot, Targets, Task
from engine.tasks.fit import FitTask
from engine.tasks.kinds import (TASKS, TaskKind, build_adv_task, build_attack_task, build_fit_task,
                                build_inverse_task, build_prior_task, task_kind)
from engine.tasks.mesh_fit import MeshFitTask

__all__ = ["TASKS", "DivergenceError", "FitTask", "MeshFitTask", "Schedule", "Snapshot", "Targets", "Task",
           "TaskKind", "build_adv_task", "build_attack_task", "build_fit_task", "build_inverse_task",
           "build_prior_task", "task_kind"]
