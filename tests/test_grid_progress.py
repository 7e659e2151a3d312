"""What `tlarena run` shows while it runs: the phase of each run under way (sent by its worker), an
ETA from recorded runs, and each finished run's accuracy, readable in 80 columns and in a pipe."""
import io
import shutil
import types

import torch
from conftest import ROOT
from rich.console import Console

from tlarena import phases
from tlarena.executors import Isolated, RunnerRecipe, run_grid
from tlarena.grid import grid
from tlarena.grid_progress import GridProgress
from tlarena.plugins import load_arena
from tlarena.records import RunRecord, read_records
from tlarena.settings import Setting
from tlarena.spec import Budget

PAIR = "uci-digits->uci-digits-rotated"


def shipped(count: int) -> list[RunRecord]:
    """Real records of the default suite that trained (ok), in a stable order."""
    records = sorted((r for r in read_records(ROOT / "results")[0] if r.status == "ok"), key=lambda r: r.key)
    return records[:count]


def plain(width: int = 80) -> Console:
    return Console(file=io.StringIO(), width=width)   # not a terminal, as in a pipe or a CI log


def test_a_finished_run_line_carries_its_accuracy_and_no_control_characters(tmp_path):
    record = shipped(1)[0]
    shutil.copy(ROOT / "results" / f"{record.key}.json", tmp_path)   # as run_grid writes it
    console = plain()

    with GridProgress(console, [record.spec], tmp_path) as shown:
        shown.finished(record.spec, "ok")

    line = console.file.getvalue()
    assert line.startswith(f"[1/1] ok {record.spec.label()}  top-1 {100 * record.metrics.top1:.1f} %")
    assert "\x1b" not in line


def test_the_eta_comes_from_recorded_runs_then_from_this_grids_runs(tmp_path):
    first, second, third = (r.spec for r in shipped(3))
    shown = GridProgress(plain(), [first, second, third], tmp_path, estimates={first.key: 40.0, second.key: None,
                                                                               third.key: 20.0})
    before = shown.eta()
    shown.times[second.method].append(30.0)   # a run of second's method finished in this grid
    assert (before, shown.eta()) == ("ETA known after the first run", "ETA ~90 s")


def test_the_eta_leaves_out_what_a_run_did_for_the_runs_after_it(tmp_path, monkeypatch):
    """The first run of a pair builds its data and trains the source model the others reuse: its
    wall time, 60 s here, is not what each run left will take (10 s)."""
    first, second, third = (r.spec for r in shipped(3))
    shutil.copy(ROOT / "results" / f"{first.key}.json", tmp_path)
    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr("tlarena.grid_progress.time", types.SimpleNamespace(monotonic=lambda: clock.now))
    monkeypatch.setattr("tlarena.grid_progress.wall_seconds", lambda record: 60.0)
    shown = GridProgress(plain(), [first, second, third], tmp_path)

    for clock.now, phase in ((0.0, phases.Phase(phases.BUILDING, "uci-digits")),
                             (20.0, phases.Phase(phases.TRAINING_SOURCE, step=1, steps=9)),
                             (50.0, phases.Phase(phases.TRAINING, step=1, steps=9))):
        shown.phase(first, phase)
    clock.now = 60.0
    shown.finished(first, "ok")

    assert shown.times[first.method] == [10.0] and shown.eta() == "ETA ~20 s"   # two runs left


def test_a_run_that_trains_no_steps_sets_no_eta_for_the_runs_that_do(tmp_path, monkeypatch):
    """Regression: a source-only run trains nothing of its own (its minute goes to the source model
    the runs after reuse), and its seconds put the ETA of a grid of DANN runs at 11 s. A method not
    timed yet is estimated at its steps times the time per step of the runs that trained."""
    import dataclasses

    from tlarena_leaderboard import synthetic

    only = [synthetic.record("source-only", "a->b", seed, steps=2500) for seed in range(2)]
    only = [dataclasses.replace(r, cost=dataclasses.replace(r.cost, steps=0)) for r in only]
    dann = [synthetic.record("dann", "a->b", seed, steps=2500) for seed in range(3)]
    cdan = synthetic.record("cdan", "a->b", 0, steps=10_000)
    results = synthetic.write(tmp_path / "results", [*only, *dann, cdan])
    monkeypatch.setattr("tlarena.grid_progress.wall_seconds",
                        lambda record: 2.0 if record.spec.method == "source-only" else 150.0)
    shown = GridProgress(plain(), [r.spec for r in [*only, *dann, cdan]], results)

    shown.finished(only[0].spec, "ok")
    assert shown.eta() == "ETA known once a run has trained"
    shown.finished(dann[0].spec, "ok")
    # left: source-only 2 s, two DANN runs 150 s each, CDAN's 10,000 steps at 150 s / 2,500 steps
    assert shown.eta() == "ETA ~15 min"   # 902 s


def test_in_a_pipe_a_slow_phase_is_one_line_and_step_counts_are_not_printed(tmp_path):
    spec = shipped(1)[0].spec
    console = plain()
    with GridProgress(console, [spec], tmp_path) as shown:
        for step in (1, 2, 3):
            shown.phase(spec, phases.Phase(phases.TRAINING_SOURCE, step=step, steps=2500))
    # its length, not "1/2500": a log never shows the count move
    assert console.file.getvalue().splitlines() == [f"  {spec.label()}: training the source model (2,500 steps)"]


def test_on_a_terminal_each_run_under_way_is_one_line_cut_at_the_width(tmp_path):
    spec = shipped(1)[0].spec
    shown = GridProgress(Console(file=io.StringIO(), width=80, force_terminal=True), [spec], tmp_path)
    with shown:
        shown.phase(spec, phases.Phase(phases.DECODING, "a-dataset-name-long-enough-to-need-more-than-80-columns train"))
        screen = Console(file=io.StringIO(), width=80, force_terminal=True, record=True)
        for renderable in shown._bar.get_renderables():
            screen.print(renderable)
    shown_text = screen.export_text().splitlines()
    assert [len(line) <= 80 for line in shown_text] == [True, True] and shown_text[1].endswith("…")
    assert shown_text[0].lstrip().startswith("runs")


def test_a_worker_sends_its_runs_phases_to_the_parent(tmp_path):
    arena = load_arena()
    # a seed no other test uses: its source model is trained here, not found in the cache
    [spec] = grid(arena, ["fine-tune"], [PAIR], "lenet", "none", [11],
                  Budget(steps=6, source_steps=8, eval_points=2), [Setting.SUPERVISED])
    told = []
    executor = Isolated(torch.device("cpu"), RunnerRecipe((), "cpu", None),
                        on_phase=lambda spec, phase: told.append(phase))

    run_grid([spec], executor, tmp_path)

    whats = list(dict.fromkeys(phase.what for phase in told))
    source_steps = [phase.step for phase in told if phase.what == phases.TRAINING_SOURCE]
    assert whats[:1] == [phases.PREPARING] and {phases.TRAINING_SOURCE, phases.TRAINING, phases.EVALUATING} <= set(whats)
    training_steps = [phase.step for phase in told if phase.what == phases.TRAINING]
    assert (source_steps[0], source_steps[-1], training_steps[-1]) == (1, 8, 6)
