"""One function per job: what the CLI and cron.yaml entries run. Thin and idempotent."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.bootstrap import Services
from pipeline.errors import ConfigError, SourceNotFound, StoreError
from pipeline.ingest import IngestOptions, Progress, run_ingest
from pipeline.model import IngestReport
from pipeline.model.learning import LearnedModel, ModelOutput

if TYPE_CHECKING:
    # Imported where used: `eudigest fetch` (and the scheduler's fetch) loads no
    # templates, mail backend or desk rules, nor the models of editions, subscribers
    # and staff.
    from pipeline.compose.render import RenderedDigest
    from pipeline.curate.corrections import CorrectionRequest, CorrectionResult
    from pipeline.deliver.corrections import CorrectionReport
    from pipeline.deliver.outbox import OutboxMailer
    from pipeline.deliver.send import SendProgress, SendReport, SendStopped
    from pipeline.model import (
        Correction,
        Edition,
        Item,
        Newsletter,
        Office,
        Recipient,
        Segment,
        StaffUser,
        Subscriber,
    )
    from pipeline.store import Store
    from subscribers.tokens import Links

log = logging.getLogger("eudigest.jobs")


@dataclass(frozen=True, slots=True)
class InitReport:
    revision: str
    topics: int
    sources: int


def init(services: Services) -> InitReport:
    """Create or upgrade the schema, then load taxonomy.yaml and sources.yaml."""
    taxonomy = services.taxonomy()
    sources = services.sources(taxonomy=taxonomy)  # validate both files before touching the db
    revision = services.store.upgrade()
    services.store.topics.sync(taxonomy)
    services.store.sources.register(sources, now=services.clock())
    if services.store.learning.active(ModelOutput.RELEVANCE):
        from pipeline.curate import learning  # after an upgrade: a model of another
        # scikit-learn or format is refused here, and the rules decide again

        learning.apply(services.store)
    return InitReport(revision=revision, topics=len(taxonomy.topics), sources=len(sources))


def fetch(
    services: Services,
    *,
    source_ids: Sequence[str] = (),
    sources_file: Path | None = None,
    force: bool = False,
    due_only: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch the configured sources (or those of `sources_file`, or the ones named)."""
    _require_schema(services)
    taxonomy = services.taxonomy()
    configured = services.sources(sources_file, taxonomy=taxonomy)
    services.store.topics.sync(taxonomy)
    services.store.sources.register(configured, now=services.clock())
    known = {s.id for s in configured}
    if source_ids:
        registered = {h.source.id for h in services.store.sources.health(list(source_ids))}
        unknown = [s for s in source_ids if s not in registered]
        if unknown:
            raise SourceNotFound(unknown[0])
    options = IngestOptions(
        only=list(source_ids) if source_ids else sorted(known),
        explicit=bool(source_ids),
        force=force,
        due_only=due_only,
        tz=services.settings.tz,
        backoff_max_minutes=services.settings.backoff_max_minutes,
        workers=services.settings.fetch_workers,
    )
    report = run_ingest(
        services.store,
        services.fetcher,
        taxonomy,
        options,
        clock=services.clock,
        progress=progress,
    )
    if report.total("new") and services.store.learning.active(ModelOutput.RELEVANCE):
        from pipeline.curate import learning  # scikit-learn only when a model is in use

        learning.apply(services.store)  # new items get the model's suggestion at once
    return report


def fetch_due(services: Services) -> IngestReport:
    """cron.yaml `fetch`: every configured source whose interval has passed."""
    return fetch(services, due_only=True)


def train_model(services: Services) -> LearnedModel:
    """cron.yaml `train-model` and `eudigest model train`: learn from the desk's decisions.

    The model is stored with its cross-validated figures whether or not it beats the rules;
    only a model that does is blended into the inbox's suggestions (curate.learning)."""
    from pipeline.curate import learning

    _require_schema(services)
    return learning.train(services.store, services.clock())


def purge(services: Services) -> int:
    """cron.yaml `purge`: retention: unconfirmed sign-ups older than 30 days go, and the
    keyed reader hashes of feedback answers older than 30 days (the answers stay, as
    anonymous counts; issue 17), and rate-limit windows that ended (they were kept for
    ever but the feedback ones). Returns the sign-ups deleted."""
    from pipeline.model.feedback import DEDUP_DAYS
    from subscribers.gdpr import purge_pending

    _require_schema(services)
    now = services.clock()
    forgotten = services.store.feedback.forget_readers(now - dt.timedelta(days=DEDUP_DAYS + 1))
    # the longest rate-limit window is a day (sign-ups per address): older ones are over
    services.store.subscribers.forget_rate_limits(now - dt.timedelta(days=2))
    if forgotten:
        log.info("purge: %d feedback answers no longer carry a reader hash", forgotten)
    return purge_pending(services.store, now=now)


def cleanup(services: Services, *, keep_days: int = 90) -> int:
    """cron.yaml `cleanup`: forget finished job runs and heartbeats older than `keep_days`."""
    _require_schema(services)
    return services.store.runs.prune(services.clock() - dt.timedelta(days=keep_days))


def send(
    services: Services,
    edition_id: int,
    *,
    batch_size: int = 1000,
    processes: int | None = None,
    helper_of: int | None = None,
    progress: Callable[[SendProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """`eudigest send`: an approved (or scheduled, or interrupted) edition, exactly once.

    Each item carries feedback links (subscribers.feedback, issue 17): signed per edition,
    item and answer; each recipient's part is the %%feedback%% substitution.

    A large audience is sent by several processes of this machine (deliver.processes):
    `processes` of them when given, else EUDIGEST_SEND_PROCESSES from 10,000 deliveries.
    `helper_of` is the parent's pid in such a helper: it leaves the report to the parent.
    `progress` is told how far the edition is every 10 s (the command line's status);
    `sleep` waits out the pauses of a database outage (deliver.send.OUTAGE_PAUSES_S)."""
    from pipeline.compose.render import DigestRenderer
    from pipeline.deliver.processes import Helpers, helper_argv
    from pipeline.deliver.send import Envelope, Lease, halt_blocked, send_edition
    from pipeline.model.feedback import READER_PLACEHOLDER
    from subscribers.feedback import FeedbackLinks, FeedbackTokens
    from subscribers.tokens import Links

    _require_schema(services)
    store, settings = services.store, services.settings
    blockers = settings.send_blockers()
    if blockers:  # nothing can go: the edition says so ("Versand angehalten"), not "Wird versandt"
        raise halt_blocked(store, edition_id, blockers, now=services.clock())
    edition = store.editions.get(edition_id)
    office = services.office()
    newsletter = office.newsletter(edition.newsletter_id)
    if newsletter is None:
        raise ConfigError(f"newsletter {edition.newsletter_id!r} is not in office.yaml")
    labels = {t.id: t.label_de for t in services.taxonomy().topics}
    sources = {h.source.id: h.source for h in store.sources.health()}
    links = Links.from_settings(settings)
    feedback = FeedbackLinks(FeedbackTokens(settings.secret_key), links.base_url, edition.id)
    started = services.clock()
    today = started.astimezone(settings.tz).date()

    renderer = DigestRenderer(  # renders what the segments share once
        edition,
        newsletter,
        office=office,
        branding=office.branding,
        topic_labels=labels,
        tz=settings.tz,
        today=today,
        sources=sources,
        web_url=f"{links.base_url}/archiv/{edition.id}",  # "Im Browser lesen"
        base_url=settings.base_url,  # dossier links: the public page, else OEIL
        feedback_url=feedback,  # "Hilfreich? Ja · Nein", "Mehr dazu bitte", "Was fehlt Ihnen?"
        glossary=services.glossary(),  # "EU-Begriffe in dieser Ausgabe"
    )

    def render(segment: Segment) -> RenderedDigest:
        return renderer.render(
            segment.sections,
            language=segment.language,
            dossiers=segment.dossiers,
            corrections=segment.corrections,
            applicant=segment.applicant,
        )

    recipient = _recipient_maker(services, links, office)

    def recipient_for(subscriber: Subscriber) -> Recipient:
        reader = feedback.reader(subscriber, now=services.clock())
        return recipient(subscriber, {READER_PLACEHOLDER: reader})

    helpers = Helpers(
        helper_argv(edition_id),
        environ=settings.environ,
        cwd=settings.cwd,
        forced=processes,
        ceiling=settings.send_processes,
    )
    with helpers:
        if helper_of is None and helpers.may_start:  # now: each reads the audience at once
            helpers.start(_expected_deliveries(store, edition_id))
        return send_edition(
            store,
            services.mailer,
            edition_id,
            render=render,
            recipient_for=recipient_for,
            token_prefix=f"send-{edition_id}-{os.getpid()}",
            now=services.clock,
            envelope=Envelope(
                from_email=office.sender_email,
                from_name=office.sender_name or office.name,
                reply_to=office.reply_to,
                categories=("digest", f"newsletter-{newsletter.id}"),
            ),
            batch_size=batch_size,
            lease=Lease.of(settings.send_lease_s),
            tz=settings.tz,
            idle=helpers.idle if helper_of is None else None,
            leave_to=None if helper_of is None else f"its parent process {helper_of}",
            progress=progress,
            sleep=sleep,
        )


def correct(
    services: Services,
    edition_id: int,
    item_id: int,
    request: CorrectionRequest,
    *,
    actor: StaffUser,
) -> CorrectionResult:
    """The desk's "Korrigieren" and `eudigest edition correct`: an edition planned before
    its segments' contents were recorded gets them first, where they can be proven
    (deliver.send.recover_segments); then curate.corrections records the correction."""
    from pipeline.curate.corrections import correct_item
    from pipeline.deliver.send import recover_segments
    from pipeline.model import EditionState

    store = services.store
    if store.corrections.unrecorded(edition_id):
        edition = store.editions.get(edition_id)
        if edition.state is EditionState.SENT:
            found = recover_segments(store, edition, services.settings.tz)
            log.info("edition %d: %d segments recovered for a correction", edition_id, found)
    return correct_item(store, edition_id, item_id, request, actor=actor, now=services.clock())


def send_corrections(
    services: Services, correction_ids: Sequence[int] | None = None, *, batch_size: int = 500
) -> list[CorrectionReport]:
    """Correction notices chosen as "sofort als kurze Mail", exactly once per reader who
    got the item (ADR 0009); `send-due` runs it after the editions."""
    from pipeline.compose.corrections import correction_note, render_correction_mail
    from pipeline.deliver.corrections import send_corrections as send_corrections_now
    from subscribers.tokens import Links

    _require_schema(services)
    store, settings = services.store, services.settings
    ids = list(correction_ids) if correction_ids is not None else store.corrections.pending()
    if not ids:
        return []  # nothing to mail: no links, no configuration needed
    office = services.office()
    links = Links.from_settings(settings)

    def render(correction: Correction) -> tuple[RenderedDigest, str]:
        edition = store.editions.get(correction.edition_id)
        newsletter = office.newsletter(edition.newsletter_id)
        if newsletter is None:
            raise ConfigError(f"newsletter {edition.newsletter_id!r} is not in office.yaml")
        item = store.items.get_many([correction.item_id]).get(correction.item_id)
        note = correction_note(correction, item, edition, settings.tz)
        mail = render_correction_mail(
            [note], office=office, newsletter=newsletter, base_url=settings.base_url
        )
        return mail, newsletter.id

    recipient = _recipient_maker(services, links, office)

    def recipient_for(subscriber: Subscriber) -> Recipient:
        return recipient(subscriber, {})

    def envelope(newsletter_id: str) -> tuple[str, str, str, tuple[str, ...]]:
        return (
            office.sender_email,
            office.sender_name or office.name,
            office.reply_to,
            ("correction", f"newsletter-{newsletter_id}"),
        )

    return send_corrections_now(
        store,
        services.mailer,
        render=render,
        recipient_for=recipient_for,
        envelope=envelope,
        token_prefix=f"korr-{os.getpid()}",
        now=services.clock,
        lease_seconds=settings.send_lease_s,
        batch_size=batch_size,
        correction_ids=ids,
    )


def send_due(services: Services) -> list[SendReport]:
    """cron: every scheduled edition whose time has come, and any interrupted send.

    An edition another process is sending right now is left to it (its report says
    where). When the backend refuses the key (SendStopped), no later edition is tried:
    raises SendDueStopped naming the editions finished before it and the ones not tried.
    When an edition stopped early (transient failures), the others are still tried, then
    SendUnfinished carries all reports: the run failed, the next one continues.

    HALTED editions (a person must fix something first) are left alone until staff
    resume them; a refused key or a blocker halts the due editions not tried, too.
    """
    from pipeline.deliver.send import (
        NotSendable,
        SendDueStopped,
        SendStopped,
        SendUnfinished,
        halt,
        live_senders,
    )
    from pipeline.model import EditionState

    _require_schema(services)
    store = services.store
    now = services.clock()
    due = [
        e
        for e in store.editions.list(
            states=(EditionState.SCHEDULED, EditionState.SENDING), limit=1000
        )
        if e.state is EditionState.SENDING or (e.scheduled_at is not None and e.scheduled_at <= now)
    ]
    reports: list[SendReport] = []
    ordered = sorted(due, key=lambda e: e.id)
    for n, edition in enumerate(ordered):
        busy = live_senders(store, edition.id, services.clock())
        if busy:
            log.info(
                "send-due: edition %d is being sent by %s (since %s); left to it",
                edition.id,
                busy[0].instance,
                busy[0].started_at.isoformat(timespec="seconds"),
            )
            reports.append(_elsewhere(services, edition.id, busy[0].instance))
            continue
        try:
            reports.append(send(services, edition.id))
        except NotSendable as exc:  # changed since listed (stopped, or sent by another run)
            log.warning("send-due: edition %d skipped: %s", edition.id, exc)
        except SendStopped as exc:  # the backend refuses the key: no edition can go now
            untried = [e.id for e in ordered[n + 1 :]]
            for other in untried:  # each says why it waits, not "Geplant" long past its time
                if live_senders(store, other, services.clock()):
                    continue  # another process is sending it: it finds out for itself
                halt(
                    services.store, other, _halt_reason(services, exc), exc.reason,
                    now=services.clock(),
                )  # fmt: skip
            raise SendDueStopped(exc, done=reports, untried=untried) from exc
    corrected = send_corrections(services)  # short correction mails: exactly once as well
    for c in corrected:
        if c.stopped:
            log.warning("send-due: correction %d stopped early: %s", c.correction_id, c.stopped)
    if any(r.interrupted for r in reports):
        raise SendUnfinished(reports)
    return reports


def _halt_reason(services: Services, exc: SendStopped) -> str:
    """The German reason the edition `exc` names was halted with (the others get it too)."""
    edition = services.store.editions.get(exc.edition_id)
    return edition.halt_reason or exc.reason


def _elsewhere(services: Services, edition_id: int, instance: str) -> SendReport:
    from pipeline.deliver.send import SendReport

    counts = services.store.deliveries.counts(edition_id)
    return SendReport.of(edition_id, counts, elsewhere=instance)


def _require_schema(services: Services) -> None:
    try:
        ready = services.store.is_initialised()
    except StoreError as exc:  # perhaps only for now: the scheduler may retry this one
        raise StoreError(f"cannot open the database: {exc}") from exc
    if not ready:
        raise ConfigError("the database has no schema yet: run `eudigest init` first")


def _topic_labels(services: Services) -> dict[str, str]:
    return {t.id: t.label_de for t in services.taxonomy().topics}


# ---------------------------------------------------------------- drafts (cron.yaml)


def _system_actor(name: str) -> StaffUser:
    """The account a job acts as in the audit trail (not a person: id 0, admin)."""
    from pipeline.model import Role, StaffUser

    return StaffUser(id=0, name=name, role=Role.ADMIN)


@dataclass(frozen=True, slots=True)
class DraftResult:
    """What a draft job did; `str()` is the one line the scheduler logs."""

    cadence: str
    newsletter_id: str | None = None
    edition_id: int | None = None
    items: int = 0
    reason: str = ""  # why nothing was drafted

    @property
    def created(self) -> bool:
        return self.edition_id is not None

    def __str__(self) -> str:
        if self.edition_id is not None:
            return (
                f"draft_{self.cadence}: edition {self.edition_id} of {self.newsletter_id} "
                f"drafted with {self.items} items"
            )
        return f"draft_{self.cadence}: nothing drafted ({self.reason})"


def draft_daily(services: Services) -> DraftResult:
    """cron.yaml: a draft of the daily newsletter (office.yaml `cadence: daily`)."""
    return draft_newsletter(services, "daily")


def draft_weekly(services: Services) -> DraftResult:
    """cron.yaml: a draft of the weekly newsletter (office.yaml `cadence: weekly`)."""
    return draft_newsletter(services, "weekly")


def draft_newsletter(
    services: Services, cadence: str, *, actor: StaffUser | None = None
) -> DraftResult:
    """A draft of the first newsletter of office.yaml with this cadence; once a day.

    Nothing is made when an edition of that newsletter was already created today (in
    the office's time zone), or when no accepted item waits for it.
    """
    from pipeline import curate

    actor = actor or _system_actor("scheduler")
    _require_schema(services)
    store, tz = services.store, services.settings.tz
    office = services.office()
    newsletter = next((n for n in office.newsletters if n.cadence == cadence), None)
    if newsletter is None:
        return DraftResult(cadence, reason=f"office.yaml has no newsletter with cadence {cadence}")
    now = services.clock()
    last = store.editions.latest_created(newsletter.id)
    if last is not None and last.astimezone(tz).date() == now.astimezone(tz).date():
        reason = f"an edition of {newsletter.id} was already created today"
        return DraftResult(cadence, newsletter.id, reason=reason)
    chosen = curate.draft_candidates(store, newsletter.id, now=now)
    if not chosen:
        reason = f"no accepted item waits for {newsletter.id}"
        return DraftResult(cadence, newsletter.id, reason=reason)
    edition = curate.draft_with(
        store, office, newsletter.id, chosen,
        actor=actor, now=now, topic_labels=_topic_labels(services), tz=tz,
    )  # fmt: skip
    return DraftResult(cadence, newsletter.id, edition.id, len(edition.item_ids))


# ---------------------------------------------------------------- the demo (`make run`)

DEMO_EMAIL = "demo@example.org"
DEMO_ACTOR = "demo"  # the demo's accounts (jobs._system_actor)
DEMO_REVIEWER = "demo-reviewer"  # approves when four eyes are on
DEMO_ITEMS = 12
# The demo composes without an editor: an item published longer ago than this (a feed's
# archive, a call of 2014) is news to nobody and stays out of its digest.
DEMO_MAX_AGE = dt.timedelta(days=365)
DEMO_BASE_URL = "https://eudigest-demo.invalid"  # links need https; .invalid never resolves
DEMO_INTRO = (
    "Diese Ausgabe hat eudigest im Demo-Lauf selbst zusammengestellt: die für die Region "
    "relevantesten neu abgerufenen Meldungen, ohne redaktionelle Prüfung. Sie geht nur an "
    "den Demo-Abonnenten."
)


@dataclass(frozen=True, slots=True)
class DemoReport:
    init: InitReport
    fetch: IngestReport
    items: int  # in the store after fetching
    newsletter_id: str
    edition: Edition | None = None  # made by this run
    send: SendReport | None = None
    previous: Edition | None = None  # the last demo edition before this run
    html: Path | None = None  # the digest's files: this run's, else the previous one's
    eml: Path | None = None
    note: str = ""  # why this run composed no digest

    @property
    def offline(self) -> bool:
        return bool(self.fetch.attempted) and not self.fetch.succeeded


def demo(
    services: Services, *, progress: Progress | None = None, max_items: int = DEMO_ITEMS
) -> DemoReport:
    """`eudigest demo`, what `make run` runs: the whole job on the embedded defaults.

        init ▸ fetch sources.yaml ▸ accept the most relevant new items with topics (as
        "demo") ▸ draft ▸ approve ▸ send to demo@example.org through the outbox ▸ files

    Only items fetched since the last demo edition count, so a run without new items
    composes nothing and points at the previous digest. It mails nobody but the demo
    subscriber, and only through the outbox: when the newsletter has other confirmed
    subscribers it stops before changing anything.

    Until some source has been fetched once, the fetch ignores backoff (`--force`): a
    first run without a network puts every source in backoff for hours, and the person
    who fixed the network and runs `make run` again would get nothing. Afterwards the
    sources' backoff is kept, as for `eudigest fetch`.
    """
    from pipeline import curate
    from pipeline.model import OFFICE_CODES, EditionState

    init_report = init(services)
    never = not any(h.last_success for h in services.store.sources.health(counts=False))
    fetched = fetch(services, progress=progress, force=never)
    store, tz = services.store, services.settings.tz
    office = services.office()
    newsletter = office.newsletters[0]
    previous = _last_demo_edition(services, newsletter.id)
    html, eml = _digest_files(services, previous.id) if previous else (None, None)
    report = DemoReport(
        init_report, fetched, store.items.count(), newsletter.id,
        previous=previous, html=html, eml=eml,
    )  # fmt: skip
    if previous is not None and previous.state in (EditionState.APPROVED, EditionState.SENDING):
        # an earlier run stopped before its digest went out: finish that one first
        sent = send(_demo_services(services), previous.id)
        html, eml = _digest_files(services, previous.id)
        return dataclasses.replace(
            report, edition=store.editions.get(previous.id), send=sent, html=html, eml=eml,
            note="finished the demo digest of an earlier, interrupted run",
        )  # fmt: skip
    chosen = _demo_candidates(services, previous, limit=max_items)
    if not chosen:
        return dataclasses.replace(report, note=_nothing_new(report))
    others = [
        s for s in store.subscribers.confirmed_for(newsletter.id) if s.email.lower() != DEMO_EMAIL
    ]
    if others:
        note = (
            f"the newsletter {newsletter.id} has {len(others)} confirmed subscribers besides "
            f"the demo subscriber; the demo mails nobody else, so it composed nothing"
        )
        return dataclasses.replace(report, note=note)
    now = services.clock()
    _demo_subscriber(services, office, newsletter, now=now)
    actor = _system_actor(DEMO_ACTOR)
    curate.accept(store, [i.id for i in chosen], actor=actor, now=now)
    edition = curate.draft_with(
        store, office, newsletter.id, chosen, actor=actor, now=now,
        topic_labels=_topic_labels(services), tz=tz, intro=DEMO_INTRO,
        title=f"{newsletter.name} – {now.astimezone(tz):%d.%m.%Y} (Demo)",
    )  # fmt: skip
    approver = _system_actor(DEMO_REVIEWER) if office.four_eyes else actor
    # The demo mails nobody but its demo subscriber, through the outbox: the sample
    # imprint of a fresh checkout does not stop it (it does stop every real edition).
    # The preflight checks the settings the demo sends with (outbox, its own link key).
    demo_services = _demo_services(services)
    curate.approve(
        store, office, edition.id, actor=approver, now=services.clock(),
        settings=demo_services.settings, waive=OFFICE_CODES,
    )  # fmt: skip
    sent = send(demo_services, edition.id)
    html, eml = _digest_files(services, edition.id)
    return dataclasses.replace(
        report, edition=store.editions.get(edition.id), send=sent, html=html, eml=eml
    )


def _nothing_new(report: DemoReport) -> str:
    if not report.items:
        return "no digest could be composed because nothing was fetched"
    if report.previous is not None:
        return (
            f"no new items since the last demo digest (edition {report.previous.id}), "
            "so no new digest was composed"
        )
    return "none of the new items has a topic, so no digest was composed"


def _last_demo_edition(services: Services, newsletter_id: str) -> Edition | None:
    found = services.store.editions.list(newsletter_id, limit=200)
    return next((e for e in found if e.created_by == DEMO_ACTOR), None)  # newest first


def _demo_candidates(services: Services, previous: Edition | None, *, limit: int) -> list[Item]:
    """New items with topics, fetched since the last demo edition and published within
    DEMO_MAX_AGE; most relevant, newest."""
    from pipeline.model import ItemStatus
    from pipeline.store.items import ItemQuery

    since = previous.created_at if previous is not None else None
    oldest = services.clock() - DEMO_MAX_AGE
    found = services.store.items.list(ItemQuery(status=[ItemStatus.NEW], limit=10_000))
    fresh = [
        i
        for i in found
        if i.topics and (since is None or i.fetched_at > since) and i.published >= oldest
    ]
    fresh.sort(key=lambda i: (i.score, i.published), reverse=True)
    return fresh[:limit]


def _demo_subscriber(
    services: Services, office: Office, newsletter: Newsletter, *, now: dt.datetime
) -> Subscriber:
    """demo@example.org: confirmed, every topic, every newsletter; made once."""
    from pipeline.model import NewSubscriber, Profile
    from subscribers.addresses import hash_of

    store = services.store
    profile = Profile(
        name="Demo-Abonnent",
        organisation="Demo-Lauf von eudigest (kein echter Abonnent)",
        newsletters=tuple(n.id for n in office.newsletters),
    )
    email_hash = hash_of(DEMO_EMAIL)
    found = store.subscribers.by_hash(email_hash)
    if found is None:
        new = NewSubscriber(DEMO_EMAIL, email_hash, profile, consent_text="demo", consent_at=now)
        found = store.subscribers.add(new, now=now)
    if found.id not in {s.id for s in store.subscribers.confirmed_for(newsletter.id)}:
        found = store.subscribers.confirm(found.id, now=now, profile=profile)
    return found


def _demo_outbox(services: Services) -> OutboxMailer:
    from pipeline.deliver.outbox import OutboxMailer

    mailer = services.mailer
    return (
        mailer if isinstance(mailer, OutboxMailer) else OutboxMailer(services.settings.outbox_path)
    )


def _demo_services(services: Services) -> Services:
    """Always the outbox; links signed with a key of this run when none is configured."""
    s = services.settings
    settings = dataclasses.replace(
        s,
        secret_key=s.secret_key or secrets.token_urlsafe(48),
        base_url=s.base_url or DEMO_BASE_URL,
        mail_backend="outbox",
    )
    return services.derive(settings=settings, mailer=_demo_outbox(services))


def _digest_files(services: Services, edition_id: int) -> tuple[Path | None, Path | None]:
    """The .html preview and .eml the outbox wrote for the edition's (one) delivery."""
    from pipeline.model import DeliveryState

    outbox = _demo_outbox(services).directory
    for d in services.store.deliveries.list(edition_id, DeliveryState.SENT):
        emls = sorted(outbox.glob(f"*-d{d.id}.eml"))
        if emls:
            html = emls[-1].with_suffix(".html")
            return (html if html.is_file() else None), emls[-1]
    return None, None


def _expected_deliveries(store: Store, edition_id: int) -> int:
    """What a send of the edition has ahead: its queued deliveries once planned, else the
    confirmed subscribers (an upper bound of the audience, one cheap count)."""
    from pipeline.model import SubscriberStatus

    if store.deliveries.planned(edition_id):
        return int(store.deliveries.counts(edition_id)["queued"])
    return int(store.subscribers.counts()[SubscriberStatus.CONFIRMED.value])


def _recipient_maker(
    services: Services, links: Links, office: Office
) -> Callable[[Subscriber, Mapping[str, str]], Recipient]:
    """Makes a reader of a digest or a correction mail: greeting, signed preference and
    unsubscribe links, the List-Unsubscribe headers, and `extra` substitutions. Imports
    once, not for each of a send's readers."""
    from pipeline.compose.render import GREETING, PREFERENCES_URL, UNSUBSCRIBE_URL, greeting
    from pipeline.model import Recipient
    from subscribers.unsubscribe import list_unsubscribe_headers

    def recipient(subscriber: Subscriber, extra: Mapping[str, str]) -> Recipient:
        manage, unsubscribe = links.manage_and_unsubscribe(subscriber, now=services.clock())
        return Recipient(
            subscriber.email,
            substitutions={
                GREETING: greeting(subscriber.name),
                PREFERENCES_URL: manage,
                UNSUBSCRIBE_URL: unsubscribe,
                **extra,
            },
            headers=list_unsubscribe_headers(
                services.settings, office, subscriber, url=unsubscribe
            ),
        )

    return recipient
