"""What a vehicle and a receiver can do between two epochs: the bounds of the checks that compare
a fix with its neighbours (the track check in :mod:`devices.gnss.decoder`, and
:mod:`devices.gnss.neighbours`), in one place, and the angle they measure turns by."""

# A receiver's reported speed and course are compared with how its positions moved over the last
# epoch (the decoder's _track_disagrees). Damage the XOR cannot see (two equal digits lost from the
# integer parts of an RMC's speed and course) lowers the speed by ≥ 9 kn and turns the course by
# ≥ 8°. The speed is the witness: a speed the track refutes takes its sentence's course with it
# (the other lost digit is there); a course alone that the track contradicts is only counted (the
# decoder's _track_turns_away: the project's twin would trip it).
# Position noise between two epochs, per GGA quality, in metres: only an RTK fixed solution is
# precise enough (±2 cm horizontally, what RTK receivers state for a fixed solution); float, DGPS
# and autonomous fixes wander by decimetres to metres, too much to contradict a speed in one epoch.
NOISE_M = {4: 0.02}
# The displacement must be ≥ 10× the noise bound (0.2 m: 2 m/s at 10 Hz, 1 m/s at 5 Hz), so the
# noise of its two ends turns its direction by at most asin(2 × 0.02 / 0.2) ≈ 11.5°.
MIN_FACTOR = 10.0
# The longest epoch interval the check uses (the slowest rate configured is 1 Hz).
MAX_DT = 1.0  # s
# What a vehicle can do within one epoch: braking at 1 g on dry asphalt is the hardest a car or
# motorcycle changes speed (10 m/s², rounded up), and no road vehicle turns faster than 120°/s
# (a motorcycle's 2.5 m minimum turning radius at the 5 m/s where 10 m/s² sideways stops it).
MAX_ACCEL = 10.0  # m/s²
MAX_TURN = 120.0  # °/s
# How fast a vehicle's turn rate itself changes (its yaw acceleration), for the check of a heading
# or course against the turn of the two confirmed values before it (devices/gnss/neighbours.py).
# A vehicle that rolls without skidding yaws at ω = v·κ (κ its path's curvature), so its yaw
# acceleration is v·dκ/dt + a·κ: the front wheel swings (δ) no faster than a hand turns the
# handlebar or the steering wheel, dκ/dt = δ'/L·sec²δ, and the speed changes at MAX_ACCEL at most.
# A motorcycle at 3 m/s (wheelbase L = 1.35 m) whose handlebar is swung lock to lock (70°) in
# 0.6 s (2 rad/s) near full lock (sec²35° = 1.5): 3 × 2 / 1.35 × 1.5 ≈ 6.7 rad/s² ≈ 380°/s². A car
# at 10 m/s whose steering wheel turns at the 720°/s of the ESC sine-with-dwell test's robot
# (ratio 16: 0.79 rad/s at the wheels, L = 2.5 m): 10 × 0.79 / 2.5 ≈ 180°/s², plus braking at
# 10 m/s² on the tightest curve friction allows there (κ = g/v² ≈ 0.1/m): 57°/s². Rounded up.
# (The project's twin needs about 330°/s² with the heading noise below: its scripts join
# straights and arcs without a transition, a step of the turn rate, 9.5°/s to 83°/s within 0.1 s
# in the E scripts at 8.6 s; 400°/s² holds it.)
MAX_YAW_ACCEL = 400.0  # °/s²
# A heading or course alone that continues the turn of the two confirmed just before it to within
# this is decided at once; one further off waits one epoch and is checked between the fixes
# before and after it (neighbours.py). It is the part of the second-order bound the turn rate's
# change alone takes at 10 Hz (MAX_YAW_ACCEL / 2 × 0.2 s × 0.1 s), without the noise terms: the
# least an angle moves when two equal integer digits are lost (355.xx -> 3.xx) is 8°, so damage
# lands further off unless the vehicle and the noise together depart by more than 4° too. It only
# sets which values wait (the latency), not which are refused: the fuzz harness's vehicle
# (≤ 300°/s²) stays within it; the twin's headings do but where a script joins a straight to an arc
# (a step of its turn rate: 39 of 6,932 at 10 Hz in the 13 scenarios); a real receiver's noise may
# put a value beyond it. Such a value goes out one epoch late.
STEADY = 4.0  # °
# A receiver's own speed and course noise (Doppler: a few cm/s; course: about a degree at the
# speeds checked), on top of the half unit of the last digit sent.
SPEED_NOISE = 0.1  # m/s
COURSE_NOISE = 2.0  # °
# A dual-antenna heading (HDT) is better than a degree on a baseline of half a metre or more.
HEADING_NOISE = 1.0  # °
# How far from its epoch's time a reported position may have been taken: ~0 for a receiver (its
# solution is for that time). The project's twin reported the last scenario sample it was shown
# (examroom/simulation/drive.py: STEP = 0.05 s apart), up to 0.05 s old; while it drives a scenario
# it now reports it at the epoch's own time (course_twins.py, follow), but a twin shown states one
# by one (tests, the demo's parked vehicles) still reports the last. The first-order and track
# checks keep the slack; the second-order check has none (neighbours.py, could_continue).
TIME_SLACK = 0.05  # s
# Faster than any exam vehicle (250 km/h): a track like that is a position jump, not a drive.
MAX_SPEED = 70.0  # m/s


def turn(a: float, b: float) -> float:
    """The smaller angle between two bearings in degrees (0..180)."""
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def course_is_direction(speed: float | None) -> bool:
    """Whether a course over ground reported with ``speed`` tells which way the vehicle travels:
    only above the receiver's speed noise. At or below it the velocity's direction is the noise's
    (real receivers standing still: an MT3339 reports 226°, 202°, 171°, 193° a second apart at
    0–0.02 m/s, a u-blox F9P no course at all), so nothing can check it (neighbours.py) and it says
    nothing of the vehicle: it is no heading (examroom.live.observing.pose_from_fix)."""
    return speed is not None and speed > SPEED_NOISE
