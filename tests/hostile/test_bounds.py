"""Bounds where a typo costs hours: every count, size and iteration field of every task kind refused just outside its
range (in the CLI, in a run folder's config.json, in the window's forms, which build the same configs), and the flags
of `resume`, `meta-test` and `demo` likewise; a value inside the range is accepted."""
from __future__ import annotations

import dataclasses
import json
import shutil
import typing

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.cli_options import leaf_flags
from engine.config import ConfigError, Range, field_ranges, field_types, from_dict, to_dict
from engine.config.fields import _without_none
from engine.tasks.kinds import TASKS
from tests.hostile.test_hostile import run_cli, says_one_thing

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(120)]


def leaf_range(config: type, path: str) -> Range | None:
    """The Range of the dotted field `path` of `config`, if it has one."""
    *parents, name = path.split(".")
    for parent in parents:
        config = _without_none(field_types(config)[parent])
    return field_ranges(config).get(name)


def bounded_flags() -> list[tuple[str, str, str, Range, bool]]:
    """(kind, flag, path, range, is a list) for every bounded field of every task kind that has a flag."""
    found = []
    for kind in TASKS:
        for path, flag, tp, _, _ in leaf_flags(kind.config, flatten=kind.flatten, rename=dict(kind.rename),
                                               skip=kind.fixed):
            bounds = leaf_range(kind.config, path)
            if bounds is not None:
                found.append((kind.name, flag, path, bounds, typing.get_origin(tp) is tuple))
    return found


BOUNDED = bounded_flags()


def test_every_count_size_and_iteration_field_has_a_range() -> None:
    """Every whole-number field of every config (a count, a size, an iteration budget, a cadence or a seed) is
    bounded, so that none of them can ask for hours or gigabytes by a slip of the finger."""
    unbounded = []
    for kind in TASKS:
        for path, _, tp, _, _ in leaf_flags(kind.config):
            item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else tp
            if item is int and leaf_range(kind.config, path) is None:
                unbounded.append(f"{kind.name}: {path}")
    assert unbounded == []
    assert len(BOUNDED) > 60


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.png"
    Image.fromarray((np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)).save(path)
    return path


def outside(bounds: Range) -> list[float]:
    return [bounds.low - 1, bounds.high + 1]


@pytest.mark.parametrize("kind, flag, path, bounds, many", BOUNDED, ids=[f"{k}{f}" for k, f, *_ in BOUNDED])
def test_every_bounded_flag_refuses_a_value_just_outside_its_range(kind, flag, path, bounds, many, tiny_image,
                                                                   tmp_path, capsys) -> None:
    needs_file = next(k for k in TASKS if k.name == kind).needs_file
    for value in outside(bounds):
        argv = [kind, *([str(tiny_image)] if needs_file else []), flag, str(value), *(["1"] if many else []),
                "--device", "cpu", "--out", str(tmp_path / "run")]
        code, err = run_cli(argv, capsys)
        assert code == cli.EXIT_BAD_INPUT, (argv, err)
        says_one_thing(err)
        assert f"out of range: give a value {bounds.describe()}" in err, err
        assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_value_inside_the_range_is_accepted() -> None:
    for kind in TASKS:
        base = to_dict(kind.config())
        from_dict(kind.config, base)  # the defaults lie inside every range
    with pytest.raises(ConfigError, match=r"steps = 1,000,000,000,000,000,000 is out of range: give a value from 0 to "
                                          r"10,000,000"):
        next(iter(TASKS)).config(steps=10 ** 18)


@pytest.fixture(scope="module")
def finished_run(tiny_image, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    assert cli.main(["fit", str(tiny_image), "--preset", "preview", "--steps", "2", "--width", "8", "--device", "cpu",
                     "--out", str(out)]) == 0
    return out


EDITS = {
    "steps-1e18": lambda config: config.update(steps=10 ** 18),
    "solver-max-iter-1e9": lambda config: config["solver"].update(max_iter=10 ** 9, tol=1e-30),
    "seed-2**80": lambda config: config.update(seed=2 ** 80),
    "log-every-0": lambda config: config.update(log_every=0),
    "mc-resolution-huge": lambda config: config.update(mc_resolution=100_000),
    "width-huge": lambda config: config["model"].update(width=10 ** 7),
}
"""Edits of a run folder's config.json that a resume must refuse."""


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_run_folder_edited_out_of_range_is_refused_when_it_is_read(edit, finished_run, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    record = json.loads((run / "config.json").read_text())
    EDITS[edit](record["config"])
    (run / "config.json").write_text(json.dumps(record))
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    code, err = run_cli(["resume", str(run)], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "out of range" in err, err
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before


COMMANDS = {
    "demo-coords-0": ["demo", "--coords", "0"],
    "demo-coords-huge": ["demo", "--coords", str(1 << 30)],
    "demo-tol-nan": ["demo", "--tol", "nan"],
    "demo-tol-0": ["demo", "--tol", "0"],
    "demo-width-0": ["demo", "--width", "0"],
    "meta-test-episodes-minus-one": ["meta-test", "--episodes", "-1"],
    "meta-test-ways-1": ["meta-test", "--ways", "1"],
    "meta-test-seed-huge": ["meta-test", "--seed", str(2 ** 80)],
    "meta-test-iterations-0": ["meta-test", "--jiio-iterations", "0"],
    "resume-steps-minus-one": ["resume", "RUN", "--steps", "-1"],
    "resume-checkpoint-every-huge": ["resume", "RUN", "--checkpoint-every", str(10 ** 12)],
}
"""Flags of the other verbs, each just outside its range (resume's own, refused by argparse; demo's and meta-test's
settings, refused by their config's checks): one line that says so."""


@pytest.mark.parametrize("case", sorted(COMMANDS))
def test_the_other_verbs_flags_are_bounded(case, finished_run, capsys) -> None:
    argv = [str(finished_run) if word == "RUN" else word for word in COMMANDS[case]]
    code, err = run_cli(argv, capsys)
    refusal = "finite number" if "nan" in argv else "out of range"
    assert code == cli.EXIT_BAD_INPUT and refusal in err.splitlines()[-1], err
    assert "Traceback" not in err


def test_a_demo_that_would_not_fit_into_memory_is_refused_before_it_starts(capsys) -> None:
    code, err = run_cli(["demo", "--coords", str(1 << 26), "--width", "8192", "--device", "cpu"], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "would need about" in err and "--coords" in err


def test_the_window_forms_share_the_ranges() -> None:
    """The window's forms rebuild the config from their fields (`ConfigForm.config`), so the same check refuses
    there: a config built with a value out of range raises the same sentence."""
    from engine.config import AdvTrainConfig

    with pytest.raises(ConfigError, match="eval_images = -1 is out of range"):
        dataclasses.replace(AdvTrainConfig(), eval_images=-1)
    with pytest.raises(ConfigError, match="channels = 0 is out of range"):
        AdvTrainConfig(channels=(0, 8))
