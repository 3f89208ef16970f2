"""Gather a prototype's feedback for the anonymised export (I/O here; anonymising is pure)."""

import pandas as pd
from sqlmodel import Session, col, select

from sandbox.anonymise import FeedbackExport, anonymise_feedback, company_key
from sandbox.models import Engagement, Organisation, Prototype, Report, Trial, User, Version


def _engagements(session: Session, prototype: Prototype) -> pd.DataFrame:
    rows = session.exec(
        select(Trial.id, Trial.kind, Version.version, Organisation.name, Organisation.kind,
               Organisation.region, Trial.started_at, Engagement.threat_kind,
               Engagement.outcome, Engagement.interceptors_used,
               Engagement.time_to_intercept_s)
        .join(Trial, col(Trial.id) == col(Engagement.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id))
        .where(Version.prototype_id == prototype.id).order_by(col(Engagement.id))).all()
    return pd.DataFrame(rows, columns=[
        "trial_id", "trial_kind", "version", "unit_name", "unit_kind", "region", "started_at",
        "threat_kind", "outcome", "interceptors_used", "time_to_intercept_s"])


def _reports(session: Session, prototype: Prototype) -> pd.DataFrame:
    rows = session.exec(
        select(Trial.id, Version.version, User.name, Organisation.name, Organisation.region,
               Report.created_at, Report.effectiveness, Report.ease_of_use, Report.reliability,
               Report.text)
        .join(Trial, col(Trial.id) == col(Report.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id))
        .join(User, col(User.id) == col(Report.author_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id))
        .where(Version.prototype_id == prototype.id).order_by(col(Report.id))).all()
    return pd.DataFrame(rows, columns=[
        "trial_id", "version", "author_name", "unit_name", "region", "created_at",
        "effectiveness", "ease_of_use", "reliability", "text"])


def roster(session: Session) -> list[str]:
    """Every name a free text could mention: users and organisations."""
    return ([name for name in session.exec(select(User.name)).all()]
            + [name for name in session.exec(select(Organisation.name)).all()])


def feedback_export(*, session: Session, prototype: Prototype, master_secret: bytes,
                    k: int = 5, l: int = 2) -> FeedbackExport:  # noqa: E741
    """The anonymised engagements and reports of one prototype, keyed to its company."""
    return anonymise_feedback(_engagements(session, prototype), _reports(session, prototype),
                              key=company_key(master_secret, prototype.organisation_id),
                              roster=roster(session), k=k, l=l)
