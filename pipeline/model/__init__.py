"""The domain words of eudigest as plain, frozen dataclasses: every one is defined here.

Stdlib only: every other module may import this package, and it imports nothing of the
project but `pipeline.errors`. One module per area, in the order of the flow:

    sources      Source, SourceKind, SourceHealth, FetchResult
    topics       Topic, Taxonomy, TopicAssignment
    items        Item, ItemVersion, ItemMerge, DocType, ItemStatus, Deadline (+ German labels)
    ingest       RawItem → NormalizedItem → Classification; Known, ItemChange; reports
    relevance    RelevanceFacts → Relevance (score and German reasons), reasons_as_of
    desk         StaffUser, Role, Annotation, Priority, Audience, AuditEntry
    office       Office, Newsletter, Branding (office.yaml)
    editions     Edition, EditionState, EditionSection, Segment; SendBlocker, send_blockers
    subscribers  Subscriber, Profile, ReaderProfile, NewSubscriber, OrgType, SubscriberStatus,
                 SuppressionReason
    deliveries   Delivery, DeliveryState, Outcome; Sender, ProcessRef (leases)
    mail         OutgoingEmail, Batch, Recipient, SendResult, RecipientResult; Mailer (the port)
    runs         JobRun
    dossiers     Dossier, DossierEvent, DossierRecord, Stage, ProcedureType, EventKind (+ labels),
                 DossierPageLink, dossier_links
    references   normalize_reference, equivalents: one spelling per EU reference (pure)
    corrections  Correction, CorrectionChange, CorrectionNote, NoticeState; corrected()
    learning     Label, Evaluation, LearnedModel, ModelState, SuggestedBy, ModelOutput, Verdict
    preflight    Finding, Preflight, PreflightCode, Reach, LinkStatus, Acknowledgement, ApiToken

`from pipeline.model import Item` works for every name; it imports only the module
that defines it (a command that never touches subscribers never loads them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.model._common import EMPTY as EMPTY
    from pipeline.model.corrections import (
        DELIVERY_LABELS as DELIVERY_LABELS,
    )
    from pipeline.model.corrections import (
        FIELD_LABELS as FIELD_LABELS,
    )
    from pipeline.model.corrections import (
        MAX_FIELD as MAX_FIELD,
    )
    from pipeline.model.corrections import (
        MAX_REASON as MAX_REASON,
    )
    from pipeline.model.corrections import (
        Correction as Correction,
    )
    from pipeline.model.corrections import (
        CorrectionChange as CorrectionChange,
    )
    from pipeline.model.corrections import (
        CorrectionDelivery as CorrectionDelivery,
    )
    from pipeline.model.corrections import (
        CorrectionField as CorrectionField,
    )
    from pipeline.model.corrections import (
        CorrectionNote as CorrectionNote,
    )
    from pipeline.model.corrections import (
        CorrectionNotice as CorrectionNotice,
    )
    from pipeline.model.corrections import (
        NoticeState as NoticeState,
    )
    from pipeline.model.corrections import (
        corrected as corrected,
    )
    from pipeline.model.corrections import (
        deadline_value as deadline_value,
    )
    from pipeline.model.corrections import (
        parse_deadline as parse_deadline,
    )
    from pipeline.model.corrections import (
        sequence_of as sequence_of,
    )
    from pipeline.model.deliveries import (
        PENDING_DELIVERY_STATES as PENDING_DELIVERY_STATES,
    )
    from pipeline.model.deliveries import (
        Delivery as Delivery,
    )
    from pipeline.model.deliveries import (
        DeliveryProblem as DeliveryProblem,
    )
    from pipeline.model.deliveries import (
        DeliveryState as DeliveryState,
    )
    from pipeline.model.deliveries import (
        Outcome as Outcome,
    )
    from pipeline.model.deliveries import (
        ProcessRef as ProcessRef,
    )
    from pipeline.model.deliveries import (
        Recovery as Recovery,
    )
    from pipeline.model.deliveries import (
        Resolution as Resolution,
    )
    from pipeline.model.deliveries import (
        Sender as Sender,
    )
    from pipeline.model.deliveries import (
        SenderOutcome as SenderOutcome,
    )
    from pipeline.model.desk import (
        AUDIENCE_LABELS as AUDIENCE_LABELS,
    )
    from pipeline.model.desk import (
        PRIORITY_LABELS as PRIORITY_LABELS,
    )
    from pipeline.model.desk import (
        Annotation as Annotation,
    )
    from pipeline.model.desk import (
        Audience as Audience,
    )
    from pipeline.model.desk import (
        AuditEntry as AuditEntry,
    )
    from pipeline.model.desk import (
        Priority as Priority,
    )
    from pipeline.model.desk import (
        Role as Role,
    )
    from pipeline.model.desk import (
        StaffUser as StaffUser,
    )
    from pipeline.model.dossiers import (
        EVENT_LABELS as EVENT_LABELS,
    )
    from pipeline.model.dossiers import (
        PROCEDURE_TYPE_LABELS as PROCEDURE_TYPE_LABELS,
    )
    from pipeline.model.dossiers import (
        STAGE_LABELS as STAGE_LABELS,
    )
    from pipeline.model.dossiers import (
        Dossier as Dossier,
    )
    from pipeline.model.dossiers import (
        DossierEvent as DossierEvent,
    )
    from pipeline.model.dossiers import (
        DossierLink as DossierLink,
    )
    from pipeline.model.dossiers import (
        DossierNews as DossierNews,
    )
    from pipeline.model.dossiers import (
        DossierNote as DossierNote,
    )
    from pipeline.model.dossiers import (
        DossierRecord as DossierRecord,
    )
    from pipeline.model.dossiers import (
        DossierRelation as DossierRelation,
    )
    from pipeline.model.dossiers import (
        DossierUpsert as DossierUpsert,
    )
    from pipeline.model.dossiers import (
        EventKind as EventKind,
    )
    from pipeline.model.dossiers import (
        ProcedureType as ProcedureType,
    )
    from pipeline.model.dossiers import (
        Relation as Relation,
    )
    from pipeline.model.dossiers import (
        Stage as Stage,
    )
    from pipeline.model.dossiers import (
        UnseenEvents as UnseenEvents,
    )
    from pipeline.model.dossiers import (
        document_events as document_events,
    )
    from pipeline.model.dossiers import (
        dossier_links as dossier_links,
    )
    from pipeline.model.dossiers import (
        dossier_public_url as dossier_public_url,
    )
    from pipeline.model.dossiers import (
        dossier_slug as dossier_slug,
    )
    from pipeline.model.dossiers import (
        eurlex_procedure_url as eurlex_procedure_url,
    )
    from pipeline.model.dossiers import (
        german_date as german_date,
    )
    from pipeline.model.dossiers import (
        main_celex as main_celex,
    )
    from pipeline.model.dossiers import (
        new_events_label as new_events_label,
    )
    from pipeline.model.dossiers import (
        next_step as next_step,
    )
    from pipeline.model.dossiers import (
        oeil_url as oeil_url,
    )
    from pipeline.model.dossiers import (
        stage_of as stage_of,
    )
    from pipeline.model.editions import (
        EDITION_STATE_LABELS as EDITION_STATE_LABELS,
    )
    from pipeline.model.editions import (
        Edition as Edition,
    )
    from pipeline.model.editions import (
        EditionSection as EditionSection,
    )
    from pipeline.model.editions import (
        EditionState as EditionState,
    )
    from pipeline.model.editions import (
        Segment as Segment,
    )
    from pipeline.model.editions import (
        SegmentKey as SegmentKey,
    )
    from pipeline.model.editions import (
        SendBlocker as SendBlocker,
    )
    from pipeline.model.editions import (
        local_time_issue as local_time_issue,
    )
    from pipeline.model.editions import (
        local_time_message as local_time_message,
    )
    from pipeline.model.editions import (
        refused_key_reason as refused_key_reason,
    )
    from pipeline.model.editions import (
        send_blockers as send_blockers,
    )
    from pipeline.model.ingest import (
        ChangeKind as ChangeKind,
    )
    from pipeline.model.ingest import (
        Classification as Classification,
    )
    from pipeline.model.ingest import (
        IngestReport as IngestReport,
    )
    from pipeline.model.ingest import (
        ItemChange as ItemChange,
    )
    from pipeline.model.ingest import (
        Known as Known,
    )
    from pipeline.model.ingest import (
        KnownItem as KnownItem,
    )
    from pipeline.model.ingest import (
        KnownVersion as KnownVersion,
    )
    from pipeline.model.ingest import (
        NormalizedItem as NormalizedItem,
    )
    from pipeline.model.ingest import (
        RawItem as RawItem,
    )
    from pipeline.model.ingest import (
        SourceReport as SourceReport,
    )
    from pipeline.model.items import (
        DEADLINE_LABELS as DEADLINE_LABELS,
    )
    from pipeline.model.items import (
        DOC_TYPE_LABELS as DOC_TYPE_LABELS,
    )
    from pipeline.model.items import (
        MERGE_REASONS as MERGE_REASONS,
    )
    from pipeline.model.items import (
        Deadline as Deadline,
    )
    from pipeline.model.items import (
        DeadlineKind as DeadlineKind,
    )
    from pipeline.model.items import (
        DocType as DocType,
    )
    from pipeline.model.items import (
        Item as Item,
    )
    from pipeline.model.items import (
        ItemMerge as ItemMerge,
    )
    from pipeline.model.items import (
        ItemStatus as ItemStatus,
    )
    from pipeline.model.items import (
        ItemVersion as ItemVersion,
    )
    from pipeline.model.items import (
        deadline_label_de as deadline_label_de,
    )
    from pipeline.model.items import (
        merge_reason as merge_reason,
    )
    from pipeline.model.learning import (
        OUTPUT_LABELS as OUTPUT_LABELS,
    )
    from pipeline.model.learning import (
        SUGGESTED_BY_LABELS as SUGGESTED_BY_LABELS,
    )
    from pipeline.model.learning import (
        Evaluation as Evaluation,
    )
    from pipeline.model.learning import (
        Label as Label,
    )
    from pipeline.model.learning import (
        LearnedModel as LearnedModel,
    )
    from pipeline.model.learning import (
        ModelOutput as ModelOutput,
    )
    from pipeline.model.learning import (
        ModelState as ModelState,
    )
    from pipeline.model.learning import (
        SuggestedBy as SuggestedBy,
    )
    from pipeline.model.learning import (
        Verdict as Verdict,
    )
    from pipeline.model.mail import (
        MAX_CATEGORIES as MAX_CATEGORIES,
    )
    from pipeline.model.mail import (
        MAX_CUSTOM_ARGS_BYTES as MAX_CUSTOM_ARGS_BYTES,
    )
    from pipeline.model.mail import (
        MAX_SUBSTITUTION_BYTES as MAX_SUBSTITUTION_BYTES,
    )
    from pipeline.model.mail import (
        PLACEHOLDERS as PLACEHOLDERS,
    )
    from pipeline.model.mail import (
        RESERVED_HEADERS as RESERVED_HEADERS,
    )
    from pipeline.model.mail import (
        TOKEN as TOKEN,
    )
    from pipeline.model.mail import (
        Batch as Batch,
    )
    from pipeline.model.mail import (
        Mailer as Mailer,
    )
    from pipeline.model.mail import (
        OutgoingEmail as OutgoingEmail,
    )
    from pipeline.model.mail import (
        Recipient as Recipient,
    )
    from pipeline.model.mail import (
        RecipientResult as RecipientResult,
    )
    from pipeline.model.mail import (
        SendResult as SendResult,
    )
    from pipeline.model.mail import (
        check_categories as check_categories,
    )
    from pipeline.model.mail import (
        check_custom_args as check_custom_args,
    )
    from pipeline.model.mail import (
        check_headers as check_headers,
    )
    from pipeline.model.mail import (
        is_sendable_address as is_sendable_address,
    )
    from pipeline.model.mail import (
        unsubscribe_headers as unsubscribe_headers,
    )
    from pipeline.model.office import (
        Branding as Branding,
    )
    from pipeline.model.office import (
        Newsletter as Newsletter,
    )
    from pipeline.model.office import (
        Office as Office,
    )
    from pipeline.model.office import (
        contrast_ratio as contrast_ratio,
    )
    from pipeline.model.office import (
        relative_luminance as relative_luminance,
    )
    from pipeline.model.preflight import MAX_SUBJECT as MAX_SUBJECT
    from pipeline.model.preflight import OFFICE_CODES as OFFICE_CODES
    from pipeline.model.preflight import Acknowledgement as Acknowledgement
    from pipeline.model.preflight import ApiToken as ApiToken
    from pipeline.model.preflight import Finding as Finding
    from pipeline.model.preflight import LinkStatus as LinkStatus
    from pipeline.model.preflight import Preflight as Preflight
    from pipeline.model.preflight import PreflightCode as PreflightCode
    from pipeline.model.preflight import Reach as Reach
    from pipeline.model.preflight import ReviewRequest as ReviewRequest
    from pipeline.model.references import (
        ReferenceKind as ReferenceKind,
    )
    from pipeline.model.references import (
        celex as celex,
    )
    from pipeline.model.references import (
        celex_in_url as celex_in_url,
    )
    from pipeline.model.references import (
        com_reference as com_reference,
    )
    from pipeline.model.references import (
        council_reference as council_reference,
    )
    from pipeline.model.references import (
        ep_report as ep_report,
    )
    from pipeline.model.references import (
        equivalents as equivalents,
    )
    from pipeline.model.references import (
        eurlex_url as eurlex_url,
    )
    from pipeline.model.references import (
        german_link as german_link,
    )
    from pipeline.model.references import (
        normalize_reference as normalize_reference,
    )
    from pipeline.model.references import (
        procedure_reference as procedure_reference,
    )
    from pipeline.model.references import (
        reference_kind as reference_kind,
    )
    from pipeline.model.relevance import (
        Relevance as Relevance,
    )
    from pipeline.model.relevance import (
        RelevanceFacts as RelevanceFacts,
    )
    from pipeline.model.relevance import (
        reasons_as_of as reasons_as_of,
    )
    from pipeline.model.runs import (
        OUTCOMES as OUTCOMES,
    )
    from pipeline.model.runs import (
        JobRun as JobRun,
    )
    from pipeline.model.sources import (
        OWN_SOURCE_ID as OWN_SOURCE_ID,
    )
    from pipeline.model.sources import (
        FetchResult as FetchResult,
    )
    from pipeline.model.sources import (
        FetchStatus as FetchStatus,
    )
    from pipeline.model.sources import (
        Source as Source,
    )
    from pipeline.model.sources import (
        SourceHealth as SourceHealth,
    )
    from pipeline.model.sources import (
        SourceKind as SourceKind,
    )
    from pipeline.model.subscribers import (
        ORG_TYPE_LABELS as ORG_TYPE_LABELS,
    )
    from pipeline.model.subscribers import (
        RECORD_ONLY as RECORD_ONLY,
    )
    from pipeline.model.subscribers import (
        EventEffect as EventEffect,
    )
    from pipeline.model.subscribers import (
        NewSubscriber as NewSubscriber,
    )
    from pipeline.model.subscribers import (
        OrgType as OrgType,
    )
    from pipeline.model.subscribers import (
        Profile as Profile,
    )
    from pipeline.model.subscribers import (
        ReaderProfile as ReaderProfile,
    )
    from pipeline.model.subscribers import (
        Subscriber as Subscriber,
    )
    from pipeline.model.subscribers import (
        SubscriberStatus as SubscriberStatus,
    )
    from pipeline.model.subscribers import (
        SuppressionReason as SuppressionReason,
    )
    from pipeline.model.subscribers import (
        WebhookEvent as WebhookEvent,
    )
    from pipeline.model.topics import (
        Taxonomy as Taxonomy,
    )
    from pipeline.model.topics import (
        Topic as Topic,
    )
    from pipeline.model.topics import (
        TopicAssignment as TopicAssignment,
    )
    from pipeline.model.topics import (
        TopicOrigin as TopicOrigin,
    )

_HOME: dict[str, str] = {
    "EMPTY": "_common",
    "SourceKind": "sources",
    "OWN_SOURCE_ID": "sources",
    "FetchStatus": "sources",
    "Source": "sources",
    "SourceHealth": "sources",
    "FetchResult": "sources",
    "TopicOrigin": "topics",
    "Topic": "topics",
    "Taxonomy": "topics",
    "TopicAssignment": "topics",
    "DocType": "items",
    "ItemStatus": "items",
    "DeadlineKind": "items",
    "DOC_TYPE_LABELS": "items",
    "DEADLINE_LABELS": "items",
    "deadline_label_de": "items",
    "Deadline": "items",
    "ItemVersion": "items",
    "ItemMerge": "items",
    "MERGE_REASONS": "items",
    "merge_reason": "items",
    "Item": "items",
    "RawItem": "ingest",
    "NormalizedItem": "ingest",
    "Classification": "ingest",
    "Relevance": "relevance",
    "RelevanceFacts": "relevance",
    "reasons_as_of": "relevance",
    "SourceReport": "ingest",
    "IngestReport": "ingest",
    "KnownVersion": "ingest",
    "KnownItem": "ingest",
    "Known": "ingest",
    "ChangeKind": "ingest",
    "ItemChange": "ingest",
    "Role": "desk",
    "Priority": "desk",
    "Audience": "desk",
    "PRIORITY_LABELS": "desk",
    "AUDIENCE_LABELS": "desk",
    "StaffUser": "desk",
    "Annotation": "desk",
    "AuditEntry": "desk",
    "Newsletter": "office",
    "relative_luminance": "office",
    "contrast_ratio": "office",
    "Branding": "office",
    "Office": "office",
    "EditionState": "editions",
    "EDITION_STATE_LABELS": "editions",
    "EditionSection": "editions",
    "Edition": "editions",
    "SegmentKey": "editions",
    "Segment": "editions",
    "SendBlocker": "editions",
    "send_blockers": "editions",
    "refused_key_reason": "editions",
    "local_time_issue": "editions",
    "local_time_message": "editions",
    "OrgType": "subscribers",
    "ORG_TYPE_LABELS": "subscribers",
    "SubscriberStatus": "subscribers",
    "SuppressionReason": "subscribers",
    "Subscriber": "subscribers",
    "WebhookEvent": "subscribers",
    "EventEffect": "subscribers",
    "RECORD_ONLY": "subscribers",
    "Profile": "subscribers",
    "ReaderProfile": "subscribers",
    "NewSubscriber": "subscribers",
    "SenderOutcome": "deliveries",
    "ProcessRef": "deliveries",
    "Sender": "deliveries",
    "DeliveryState": "deliveries",
    "PENDING_DELIVERY_STATES": "deliveries",
    "Delivery": "deliveries",
    "Outcome": "deliveries",
    "DeliveryProblem": "deliveries",
    "Recovery": "deliveries",
    "Resolution": "deliveries",
    "PLACEHOLDERS": "mail",
    "TOKEN": "mail",
    "MAX_CATEGORIES": "mail",
    "MAX_SUBSTITUTION_BYTES": "mail",
    "MAX_CUSTOM_ARGS_BYTES": "mail",
    "RESERVED_HEADERS": "mail",
    "is_sendable_address": "mail",
    "unsubscribe_headers": "mail",
    "check_headers": "mail",
    "check_custom_args": "mail",
    "check_categories": "mail",
    "Recipient": "mail",
    "Batch": "mail",
    "RecipientResult": "mail",
    "OutgoingEmail": "mail",
    "SendResult": "mail",
    "Mailer": "mail",
    "OUTCOMES": "runs",
    "JobRun": "runs",
    "Stage": "dossiers",
    "STAGE_LABELS": "dossiers",
    "ProcedureType": "dossiers",
    "PROCEDURE_TYPE_LABELS": "dossiers",
    "EventKind": "dossiers",
    "EVENT_LABELS": "dossiers",
    "DossierEvent": "dossiers",
    "DossierRecord": "dossiers",
    "Dossier": "dossiers",
    "DossierLink": "dossiers",
    "DossierNote": "dossiers",
    "DossierUpsert": "dossiers",
    "stage_of": "dossiers",
    "DossierRelation": "dossiers",
    "Relation": "dossiers",
    "document_events": "dossiers",
    "next_step": "dossiers",
    "oeil_url": "dossiers",
    "DossierPageLink": "dossiers",
    "dossier_links": "dossiers",
    "DossierNews": "dossiers",
    "dossier_public_url": "dossiers",
    "dossier_slug": "dossiers",
    "german_date": "dossiers",
    "main_celex": "dossiers",
    "eurlex_procedure_url": "dossiers",
    "UnseenEvents": "dossiers",
    "new_events_label": "dossiers",
    "ReferenceKind": "references",
    "normalize_reference": "references",
    "reference_kind": "references",
    "equivalents": "references",
    "eurlex_url": "references",
    "german_link": "references",
    "procedure_reference": "references",
    "com_reference": "references",
    "celex": "references",
    "celex_in_url": "references",
    "council_reference": "references",
    "ep_report": "references",
    "Correction": "corrections",
    "MAX_REASON": "corrections",
    "MAX_FIELD": "corrections",
    "CorrectionChange": "corrections",
    "CorrectionField": "corrections",
    "CorrectionDelivery": "corrections",
    "CorrectionNote": "corrections",
    "CorrectionNotice": "corrections",
    "NoticeState": "corrections",
    "FIELD_LABELS": "corrections",
    "DELIVERY_LABELS": "corrections",
    "corrected": "corrections",
    "sequence_of": "corrections",
    "deadline_value": "corrections",
    "parse_deadline": "corrections",
    "Label": "learning",
    "Evaluation": "learning",
    "LearnedModel": "learning",
    "ModelState": "learning",
    "SuggestedBy": "learning",
    "ModelOutput": "learning",
    "Verdict": "learning",
    "SUGGESTED_BY_LABELS": "learning",
    "OUTPUT_LABELS": "learning",
    "PreflightCode": "preflight",
    "OFFICE_CODES": "preflight",
    "MAX_SUBJECT": "preflight",
    "Finding": "preflight",
    "Acknowledgement": "preflight",
    "Reach": "preflight",
    "LinkStatus": "preflight",
    "Preflight": "preflight",
    "ApiToken": "preflight",
    "ReviewRequest": "preflight",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    """Load the module that defines `name` on first use (PEP 562)."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
