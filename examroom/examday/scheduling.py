"""The controller process's one APScheduler: one thread pool, two job stores.

* ``PERSISTENT``: jobs kept in the course database (table ``apscheduler_jobs``),
  so they survive a restart; only jobs made of an importable function and
  picklable arguments belong there (the sittings' phases, examroom.examday.sittings).
* ``MEMORY`` (the default store): periodic work that holds live objects (the
  video housekeeping); it is added again by each process and never persisted.

One scheduler, not one per subsystem: a late job is looked for in one place,
and the 2-core controller runs one small pool of job threads.
"""

from __future__ import annotations

from datetime import timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

PERSISTENT = "persistent"
MEMORY = "default"  # APScheduler's default alias: a job added without a store is never persisted
JOBS_TABLE = "apscheduler_jobs"  # created by migration 0005; previous versions stored jobs there
# Enough that a slow retention sweep or sitting phase does not hold up moving segments, few
# enough for two cores. Jobs run in threads named "scheduler_N".
WORKERS = 4
THREAD_PREFIX = "scheduler"
# The sittings' phases run one at a time, in the order they fell due: after a restart every overdue
# phase of a sitting is due at once, and "close" must not overtake "open".
IN_ORDER = "in_order"


def controller_scheduler(engine: Engine) -> BackgroundScheduler:
    """A scheduler (not started) with the course database as its persistent job store."""
    return BackgroundScheduler(
        jobstores={PERSISTENT: SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE), MEMORY: MemoryJobStore()},
        # WORKERS job threads in all: one for the in-order jobs, the rest for the others.
        executors={"default": ThreadPoolExecutor(WORKERS - 1, pool_kwargs={"thread_name_prefix": THREAD_PREFIX}),
                   IN_ORDER: ThreadPoolExecutor(1, pool_kwargs={"thread_name_prefix": THREAD_PREFIX + "_in_order"})},
        # One run of a late job, never a pile of them, whatever store it is in.
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=timezone.utc)
