"""Concurrent writers of a project's values and ``latest_totals``, on real separate
transactions that commit (migrations 0018/0021: the statement-level triggers lock the
project's row first, then recount its latest period from a fresh snapshot).

Each test commits for real and takes its rows away again at the end."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import psycopg2.errors
import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor
from api.db import db
from api.principal import ANONYMOUS
from api.projects import service
from api.projects.models import LatestTotals, Project
from api.revisions.models import Revision
from metrics import default_framework
from metrics.comparison import latest_totals
from tests.conftest import actor_payload

SURVEYS = [m.key for m in default_framework().measures.values() if m.survey]
WAIT_SECONDS = 30  # generous: a shared CI machine can be slow


@contextmanager
def committed_projects(app, count: int) -> Iterator[list[uuid.UUID]]:
    """``count`` published projects of a new organisation, committed; removed afterwards
    with their values (``latest_totals`` goes with them: ON DELETE CASCADE)."""
    with Session(db.engine) as setup, app.app_context():
        actor = create_actor(setup, ActorCreateSchema().load(actor_payload()))
        projects = [
            Project(actor_id=actor.id, title=f"Race {i}", countries=["KE"], status="published")
            for i in range(count)
        ]
        setup.add_all(projects)
        setup.commit()
        actor_id, ids = actor.id, [p.id for p in projects]
    try:
        yield ids
    finally:
        with Session(db.engine) as cleanup:
            cleanup.execute(
                text("DELETE FROM indicator_values WHERE project_id = ANY(:ids)"), {"ids": ids}
            )
            cleanup.execute(delete(Project).where(Project.id.in_(ids)))
            cleanup.execute(delete(Revision).where(Revision.target_id == actor_id))
            cleanup.execute(delete(Actor).where(Actor.id == actor_id))
            cleanup.commit()


def write(session: Session, project_id: uuid.UUID, measures: list[str], period: str, start: date):
    """Survey values of ``measures`` for one period, stored as an upload stores them."""
    rows = [
        (
            line,
            {
                "measure": measure,
                "period": period,
                "start": start.isoformat(),
                "end": start.isoformat(),
                "value": str(20 + line),
                "sample_size": str(300 + line),
            },
            [],
        )
        for line, measure in enumerate(measures, start=2)
    ]
    project = session.get(Project, project_id)
    return service.store_values(session, project, rows, ANONYMOUS, replace=False)


def assert_totals_equal_a_recount(project_id: uuid.UUID) -> dict:
    """The project's ``latest_totals`` row equals its latest period's totals recounted by
    the metrics library from the committed values; returns them by measure."""
    with Session(db.engine) as check:
        values = [
            service._as_value(v)
            for v in service.list_values(check, project_id, include_superseded=False)
        ]
        stored = check.get(LatestTotals, project_id)
    recount = latest_totals(values)
    assert recount, "the project has values"
    measures = sorted(recount)
    assert stored is not None
    assert (stored.period, stored.measures) == (next(iter(recount.values())).period, measures)
    assert stored.vals == [recount[m].value for m in measures]
    assert stored.sample_sizes == [recount[m].sample_size for m in measures]
    assert stored.design_effects is None and stored.effective_sample_sizes is None
    return recount


def test_a_second_writer_of_a_project_waits_for_the_first_and_its_totals_count_both(app):
    """Writer A stores a value and holds its transaction open: the trigger has locked the
    project's row (another transaction cannot take it); writer B, storing another measure
    of the same period, waits on that lock, not on anything else, and once A commits B's
    recount sees A's value: no lost update."""
    with committed_projects(app, 1) as (project_id,), app.app_context():
        day = date(2026, 1, 1)
        with Session(db.engine) as first:
            write(first, project_id, [SURVEYS[0]], "2026", day)
            first_pid = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with Session(db.engine) as probe:
                with pytest.raises(OperationalError) as locked:
                    probe.execute(
                        text("SELECT 1 FROM projects WHERE id = :id FOR NO KEY UPDATE NOWAIT"),
                        {"id": project_id},
                    )
                assert isinstance(locked.value.orig, psycopg2.errors.LockNotAvailable)
                probe.rollback()

            outcome: list = []

            def second_writer() -> None:
                with Session(db.engine) as second, app.app_context():
                    try:
                        write(second, project_id, [SURVEYS[1]], "2026", day)
                        second.commit()
                        outcome.append("committed")
                    except Exception as error:  # reported below, with its kind
                        outcome.append(error)

            thread = threading.Thread(target=second_writer)
            thread.start()
            try:
                waiting_on = blocked_by(first_pid)
                assert outcome == [], "B must not finish while A holds the project"
                # B's insert itself conflicts with nothing of A's (another measure; the
                # foreign key's share lock goes with A's): it waits in its trigger, on the
                # project's row that A's trigger locked.
                assert waiting_on["wait_event_type"] == "Lock"
                assert waiting_on["locktype"] in ("tuple", "transactionid")
                assert "INSERT INTO indicator_values" in waiting_on["query"]
            finally:
                first.commit()
                thread.join(timeout=WAIT_SECONDS)
        assert not thread.is_alive()
        assert outcome == ["committed"]
        totals = assert_totals_equal_a_recount(project_id)
        assert sorted(totals) == sorted(SURVEYS[:2])


def blocked_by(pid: int) -> dict:
    """The backend waiting on a lock that ``pid`` holds (polled until there is one)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            row = (
                watcher.execute(
                    text(
                        "SELECT a.pid, a.wait_event_type, a.query, l.locktype "
                        "FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                        "AND NOT l.granted WHERE :pid = ANY(pg_blocking_pids(a.pid))"
                    ),
                    {"pid": pid},
                )
                .mappings()
                .first()
            )
            if row is not None:
                return dict(row)
            watcher.rollback()
            time.sleep(0.05)
    raise AssertionError(f"no backend waited on {pid} within {WAIT_SECONDS} s")


def test_writers_at_once_on_the_same_and_on_different_projects_end_with_exact_totals(app):
    """Eight writers released together, four on each of two projects, each storing its own
    measures of the same period, two rounds (a later period the second time): every one
    commits (no deadlock: PostgreSQL would abort one with 40P01), and each project's
    ``latest_totals`` equals a recount of its values, every writer's measures included."""
    writers_per_project, rounds = 4, 2
    measures = [SURVEYS[i::writers_per_project] for i in range(writers_per_project)]
    with committed_projects(app, 2) as project_ids, app.app_context():
        for round_ in range(rounds):
            period, day = f"round {round_}", date(2026, 1 + round_, 1)
            barrier = threading.Barrier(len(project_ids) * writers_per_project)
            outcomes: list = []

            def writer(project_id, own, period=period, day=day, barrier=barrier, out=outcomes):
                with Session(db.engine) as session, app.app_context():
                    session.connection()  # connected before the start, so they start together
                    barrier.wait(timeout=WAIT_SECONDS)
                    try:
                        write(session, project_id, own, period, day)
                        session.commit()
                        out.append("committed")
                    except Exception as error:  # reported below, with its kind
                        out.append(error)

            threads = [
                threading.Thread(target=writer, args=(p, own))
                for p in project_ids
                for own in measures
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=WAIT_SECONDS)
            assert not any(thread.is_alive() for thread in threads)
            assert outcomes == ["committed"] * len(threads)
            for project_id in project_ids:
                totals = assert_totals_equal_a_recount(project_id)
                assert sorted(totals) == sorted(SURVEYS)
                assert {v.period for v in totals.values()} == {period}
