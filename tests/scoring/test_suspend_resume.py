"""A device fault suspends an attempt; resume continues it without counting the suspended time."""

from scoring.events import EventKind, Status
from scoring.observations import CommandAction
from tests.scoring.items.test_hill import E_HILL, lateral_for_gap, stake_u
from tests.scoring.streams import Run, demo_course, only, past_exit, ruleset


def stopped_on_the_hill(before: float):
    """Stop at the stake line and wait ``before`` seconds (the 30 s start limit runs)."""
    run = Run(only(demo_course(), "E", E_HILL))
    item = run.item(E_HILL)
    run.at(E_HILL, -1.5, lateral_for_gap(run, item, 0.2)).start().hold(0.5)
    run.go(E_HILL, stake_u(item), point="front_axle", speed=1.0)
    return run.hold(before)


def move_off(run):
    return run.go(E_HILL, past_exit(run, E_HILL), point="front_axle", speed=1.0)


def test_device_fault_suspends_and_is_never_a_deduction():
    run = stopped_on_the_hill(20.0).command(CommandAction.DEVICE_FAULT, reason="V1.gnss RTK浮点解")
    run.set(engine=False).hold(60.0)  # the engine stalls while suspended: not judged
    result = run.judge()
    assert result.status == Status.SUSPENDED and not result.status.ended
    assert result.deductions == () and result.score == 100 and result.reason == "V1.gnss RTK浮点解"


def test_resume_does_not_count_the_suspended_time():
    run = stopped_on_the_hill(20.0).command(CommandAction.DEVICE_FAULT, reason="signal board silent")
    run.hold(90.0).command(CommandAction.RESUME, actor="考试员 王").hold(5.0)
    result = move_off(run).judge()
    # 20 s + 5 s stopped: within 30 s, although 115 s passed on the clock
    assert result.status == Status.PASSED and result.deductions == ()


def test_time_limit_still_applies_across_a_resume():
    run = stopped_on_the_hill(20.0).command(CommandAction.DEVICE_FAULT, reason="x")
    run.hold(40.0).command(CommandAction.RESUME).hold(11.0)
    result = move_off(run).judge()
    assert [d.rule for d in result.deductions] == ["hill.start_timeout"]
    d = result.deductions[0]
    assert 30.0 < d.value <= 31.5  # exam time stopped, not clock time
    # deduction times are exam time: the clock time minus the 40 s suspended
    fault_t = next(o.t for o in run.obs if getattr(o, "action", None) == CommandAction.DEVICE_FAULT)
    assert d.t < fault_t + 11.5


def test_ending_a_suspended_attempt_keeps_it_a_device_fault():
    run = stopped_on_the_hill(5.0).command(CommandAction.DEVICE_FAULT, reason="board silent")
    run.hold(3.0).command(CommandAction.STOP, actor="考试员", reason="改为重考")
    result = run.judge()
    assert result.status == Status.DEVICE_FAULT and result.deductions == ()
    assert result.reason == "board silent; 改为重考"


def test_suspend_and_resume_events():
    from scoring.judge import judge_for_start

    run = stopped_on_the_hill(1.0).command(CommandAction.DEVICE_FAULT, reason="x").hold(1.0)
    run.command(CommandAction.RESUME).hold(1.0)
    judge = judge_for_start(run.course, ruleset(), run.obs[0])
    kinds = [e.kind for obs in run.obs for e in judge.feed(obs)]
    assert EventKind.ATTEMPT_SUSPENDED in kinds and EventKind.ATTEMPT_RESUMED in kinds
    assert kinds.index(EventKind.ATTEMPT_SUSPENDED) < kinds.index(EventKind.ATTEMPT_RESUMED)
    assert EventKind.ATTEMPT_FINISHED not in kinds and judge.status == Status.RUNNING
