"""Differentially private aggregates of a prototype's soldier feedback, charged to the
company's privacy budget (recorded in privacy_budget)."""

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandbox.anonymise import iso_week
from sandbox.errors import Forbidden
from sandbox.models import Engagement, PrivacyBudget, Prototype, Report, Trial, Version
from sandbox.models.registry import REPORT_RATINGS
from sandbox.privacy import (
    MAX_ENGAGEMENTS_PER_PERSON,
    MAX_REPORTS_PER_PERSON,
    private_aggregates,
)
from sandbox.timeutil import utcnow


def budget_of(session: Session, organisation_id: int, total: float) -> PrivacyBudget:
    """The company's budget, opened at `total` on first use."""
    found = session.get(PrivacyBudget, organisation_id)
    if found is not None:
        return found
    session.add(PrivacyBudget(organisation_id=organisation_id, epsilon_total=total))
    try:
        session.commit()
    except IntegrityError:  # opened by a concurrent request
        session.rollback()
    found = session.get(PrivacyBudget, organisation_id)
    assert found is not None
    return found


def spend(session: Session, organisation_id: int, epsilon: float,
          total: float) -> PrivacyBudget:
    """Charge `epsilon` to the company's budget in one conditional UPDATE (two concurrent
    queries cannot both pass the last of it), or refuse saying what is left."""
    budget = budget_of(session, organisation_id, total)
    charged = session.execute(
        update(PrivacyBudget)
        .where(col(PrivacyBudget.organisation_id) == organisation_id,
               col(PrivacyBudget.epsilon_spent) + epsilon <= col(PrivacyBudget.epsilon_total))
        .values(epsilon_spent=col(PrivacyBudget.epsilon_spent) + epsilon,
                queries=col(PrivacyBudget.queries) + 1, updated_at=utcnow()))
    session.commit()
    session.refresh(budget)
    if charged.rowcount != 1:  # type: ignore[attr-defined]
        left = budget.epsilon_total - budget.epsilon_spent
        raise Forbidden(f"privacy budget spent: this query needs epsilon {epsilon:g} and your "
                        f"company has {left:.3g} of {budget.epsilon_total:g} left; every answer "
                        "tells a little about the soldiers in it, so the budget does not renew "
                        "with time: ask the task force, or use the released batches")
    return budget


def periods_back(now: datetime, period: str, count: int) -> list[str]:
    """The labels of the last `count` weeks or months, oldest first, this one included."""
    if period == "week":
        return [str(iso_week(pd.Series([now - timedelta(weeks=i)])).iloc[0])
                for i in reversed(range(count))]
    month = pd.Period(now.replace(tzinfo=None), "M")
    return [str(month - i) for i in reversed(range(count))]


def _label(started: pd.Series, period: str) -> pd.Series:
    if period == "week":
        return iso_week(started) if len(started) else pd.Series(dtype=str)
    return pd.to_datetime(started, utc=True).dt.strftime("%Y-%m")


def _frames(session: Session, prototype: Prototype, period: str) -> tuple[pd.DataFrame,
                                                                         pd.DataFrame]:
    person = func.coalesce(Trial.created_by_id, -col(Trial.id))
    where = [col(Version.prototype_id) == prototype.id, col(Trial.unit_id).is_not(None)]
    engagements = pd.DataFrame(session.exec(
        select(person, Version.version, Trial.started_at, Engagement.outcome, func.count())
        .join(Trial, col(Trial.id) == col(Engagement.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id)).where(*where)
        .group_by(person, Version.version, Trial.started_at, Trial.id, Engagement.outcome)
        .order_by(Trial.started_at, Trial.id)).all(),
        columns=["person", "version", "started_at", "outcome", "rows"])
    reports = pd.DataFrame(session.exec(
        select(Report.author_id, Version.version, Trial.started_at,
               *(getattr(Report, rating) for rating in REPORT_RATINGS))
        .join(Trial, col(Trial.id) == col(Report.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id))
        .where(col(Version.prototype_id) == prototype.id).order_by(col(Report.id))).all(),
        columns=["person", "version", "started_at", *REPORT_RATINGS])
    engagements["outcome"] = engagements["outcome"].astype(str)
    for frame in (engagements, reports):
        frame["period"] = _label(frame["started_at"], period)
    return engagements, reports


def private_feedback(*, session: Session, prototype: Prototype, period: str, periods: int,
                     epsilon: float, budget_total: float) -> dict[str, Any]:
    """Charge the budget first, then answer: a refused query learns nothing."""
    budget = spend(session, prototype.organisation_id, epsilon, budget_total)
    versions = [v for v in session.exec(select(Version.version).where(
        Version.prototype_id == prototype.id).order_by(col(Version.id))).all()]
    labels = periods_back(utcnow(), period, periods)
    engagements, reports = (frame[frame["period"].isin(labels)]
                            for frame in _frames(session, prototype, period))
    cells = private_aggregates(engagements, reports, versions=versions, periods=labels,
                               epsilon=epsilon)
    return {"epsilon": epsilon, "period": period, "cells": cells,
            "contribution_bounds": {"engagements_per_soldier": MAX_ENGAGEMENTS_PER_PERSON,
                                    "reports_per_soldier": MAX_REPORTS_PER_PERSON},
            "budget": budget_public(budget)}


def budget_public(budget: PrivacyBudget) -> dict[str, Any]:
    return {"epsilon_total": budget.epsilon_total, "epsilon_spent": budget.epsilon_spent,
            "epsilon_left": max(budget.epsilon_total - budget.epsilon_spent, 0.0),
            "queries": budget.queries}
