"""The links of a send are made with shared serializers (`tokens.dated_serializer`: one
per secret, salt and second, its signer and key made once); they are itsdangerous'
tokens byte for byte, as one new serializer per token made them before.

- Links mailed before open as they did (golden tokens, made by the code before).
- Every token, of many readers at many times, equals the plain itsdangerous one.
- A token made now opens through the reading code and through plain itsdangerous;
  expired, damaged and foreign ones are refused.
- Threads signing in the same second get the same tokens as one thread.
"""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from pipeline.model import OrgType, Subscriber, SubscriberStatus
from pipeline.model.feedback import DEDUP_DAYS, Answer
from subscribers.feedback import FeedbackInvalid, FeedbackProblem, FeedbackTokens
from subscribers.tokens import Links, TokenInvalid, TokenProblem, Tokens, confirmed_mark
from tests.subscribers.test_tokens import BERND, NOW, PROFILE, SECRET

OTHER_SECRET = "another-secret-0123456789abcdefghijklmnopq"
BASE = "https://newsletter.region-stuttgart.de"
MANAGE, CONFIRM, READER = (
    "eudigest.subscriber.manage",
    "eudigest.subscriber.confirm",
    "eudigest.feedback.reader",
)
# Made by subscribers.tokens and subscribers.feedback before the shared serializers
# (commit aaa58cf): one URLSafeTimedSerializer and signer per token.
GOLDEN_MANAGE = "WzcsMSwiYWIwZTVhMGExZWI3NzI2ZSJd.awaciA._ZYVpVpuKtmad954Ei_kKm5nM_8"
GOLDEN_CONFIRM = (
    ".eJwVizEOgzAMRa-CPHsIldrszOUEUQZHMVWEMVJIVXExJjYuVrO9959-8NgjUHL8JEc9J-8fLwZ0GGDgqrkbr1OEK"
    "yC8SXOlttHSuuE6khT9sFoQC3PlshlnOweYvpqtmi9rKlLaDtHmH_MsNwLE-AeeSCiZ.awaciA."
    "2uAfqOQaQIrz21lKJOE3tLpRmMg"
)
GOLDEN_READER = (
    "WzQyLCI5MjM1MDhkNWFiMjg5NTcyN2YyYjk0NTZjNjJlNzcyNyIsInNvbnN0aWdlIl0.awaciA."
    "M2uWOKo3doZM7ylownYqga__7Lk"
)


class _PlainClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer at a given time, nothing else changed."""

    def __init__(self, *args: Any, now: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now


def plain(salt: str, payload: list[Any], now: dt.datetime, secret: str = SECRET) -> str:
    """The token plain itsdangerous makes: a new serializer and signer, its defaults."""
    serializer = URLSafeTimedSerializer(
        secret,
        salt=salt,
        signer=_PlainClockSigner,
        signer_kwargs={"now": int(now.timestamp())},
    )
    return serializer.dumps(payload)


def readers(n: int, seed: int = 3) -> list[Subscriber]:
    rng = random.Random(seed)
    names = ["", "Anna Müller", "Zoë O'Brien", "Çağlar Öztürk"]
    return [
        Subscriber(
            id=rng.choice([i, 10_000 + i, 2**31 + i]),
            email=f"leser.{i}@{rng.choice(['kommune', 'uni-stuttgart', 'xn--mnchen-3ya'])}.de",
            status=SubscriberStatus.CONFIRMED,
            created_at=NOW,
            name=rng.choice(names),
            org_type=rng.choice(list(OrgType)),
            confirmed_at=rng.choice([None, NOW - dt.timedelta(days=i, microseconds=i)]),
            token_version=rng.randint(1, 5),
        )
        for i in range(n)
    ]


def times(seed: int = 5) -> list[dt.datetime]:
    """The same second again (also a fraction later), neighbouring seconds, far-off days,
    and more distinct seconds than the serializers kept are, in a shuffled order."""
    fixed = [
        NOW,
        NOW + dt.timedelta(microseconds=400_000),
        NOW + dt.timedelta(seconds=1),
        NOW - dt.timedelta(seconds=1),
        NOW + dt.timedelta(days=400),
        dt.datetime(2001, 9, 9, 1, 46, 40, tzinfo=dt.UTC),
    ]
    spread = [NOW + dt.timedelta(seconds=17 * k) for k in range(40)]
    out = fixed * 3 + spread
    random.Random(seed).shuffle(out)
    return out


def test_links_mailed_before_are_made_and_read_as_they_were() -> None:
    tokens, feedback = Tokens(SECRET), FeedbackTokens(SECRET)
    assert tokens.manage_token(BERND, now=NOW) == GOLDEN_MANAGE
    assert tokens.confirm_token(BERND, now=NOW, profile=PROFILE) == GOLDEN_CONFIRM
    assert feedback.reader_token(BERND, 42, now=NOW) == GOLDEN_READER
    later = NOW + dt.timedelta(days=3)
    tokens.check_claim(tokens.read_manage(GOLDEN_MANAGE, now=later), BERND)
    assert tokens.read_confirm(GOLDEN_CONFIRM, now=later).profile == PROFILE
    item = feedback.item_token(42, 9, Answer.YES)
    assert feedback.read(item, GOLDEN_READER, now=later).pseudonym == feedback.pseudonym(BERND)


def test_every_token_is_the_plain_itsdangerous_one() -> None:
    tokens, feedback = Tokens(SECRET), FeedbackTokens(SECRET)
    links = Links(tokens, BASE)
    people = readers(60)
    made = 0
    for now in times():
        for s in people:
            tag = tokens.address_tag(s)
            manage = plain(MANAGE, [s.id, s.token_version, tag], now)
            assert tokens.manage_token(s, now=now) == manage
            assert links.manage_and_unsubscribe(s, now=now) == (
                f"{BASE}/abo/einstellungen/{manage}",
                f"{BASE}/abo/abmelden/{manage}",
            )
            confirm = [s.id, s.token_version, tag, confirmed_mark(s)]
            assert tokens.confirm_token(s, now=now) == plain(CONFIRM, confirm, now)
            org = s.org_type.value if s.org_type else ""
            reader = [s.id % 1000, feedback.pseudonym(s), org]
            assert feedback.reader_token(s, s.id % 1000, now=now) == plain(READER, reader, now)
            made += 3
        # a long payload (a re-sign-up's profile) is zlib-compressed: the same bytes too
        with_profile = tokens.confirm_token(people[0], now=now, profile=PROFILE)
        assert with_profile.startswith(".")
        payload = URLSafeTimedSerializer(SECRET, salt=CONFIRM).loads(with_profile)
        assert with_profile == plain(CONFIRM, payload, now)
    assert made == len(times()) * len(people) * 3


def damaged(token: str, part: int) -> str:
    """One character changed in the middle of the payload (0), timestamp (1) or
    signature (2) (a last character may carry only padding bits)."""
    parts = token.rsplit(".", 2)
    i = len(parts[part]) // 2
    old = parts[part][i]
    parts[part] = parts[part][:i] + ("A" if old != "A" else "B") + parts[part][i + 1 :]
    return ".".join(parts)


@pytest.mark.parametrize("part", [0, 1, 2], ids=["payload", "timestamp", "signature"])
def test_a_new_token_opens_where_it_should_and_nowhere_else(part: int) -> None:
    tokens, feedback = Tokens(SECRET), FeedbackTokens(SECRET)
    manage = tokens.manage_token(BERND, now=NOW)
    confirm = tokens.confirm_token(BERND, now=NOW, profile=PROFILE)
    reader = feedback.reader_token(BERND, 42, now=NOW)
    item = feedback.item_token(42, 9, Answer.YES)
    # the reading code, at the same second (the same shared serializer) and later
    for at in (NOW, NOW + dt.timedelta(days=7)):
        tokens.check_claim(tokens.read_manage(manage, now=at), BERND)
        assert tokens.read_confirm(confirm, now=at).profile == PROFILE
        assert feedback.read(item, reader, now=at).edition_id == 42
    # plain itsdangerous reads them too
    assert URLSafeTimedSerializer(SECRET, salt=MANAGE).loads(manage)[0] == BERND.id
    assert URLSafeTimedSerializer(SECRET, salt=READER).loads(reader)[0] == 42
    assert URLSafeSerializer(SECRET, salt="eudigest.feedback.item").loads(item) == [
        42,
        9,
        Answer.YES.value,
    ]
    # expired
    with pytest.raises(TokenInvalid) as expired:
        tokens.read_confirm(confirm, now=NOW + dt.timedelta(days=7, seconds=1))
    assert expired.value.problem is TokenProblem.EXPIRED
    with pytest.raises(FeedbackInvalid) as too_old:
        feedback.read(item, reader, now=NOW + dt.timedelta(days=DEDUP_DAYS, seconds=1))
    assert too_old.value.problem is FeedbackProblem.EXPIRED
    # damaged
    for token, read in (
        (manage, lambda t: tokens.read_manage(t, now=NOW)),
        (confirm, lambda t: tokens.read_confirm(t, now=NOW)),
    ):
        with pytest.raises(TokenInvalid) as forged:
            read(damaged(token, part))
        assert forged.value.problem is TokenProblem.FORGED
    with pytest.raises(FeedbackInvalid) as bad:
        feedback.read(item, damaged(reader, part), now=NOW)
    assert bad.value.problem is FeedbackProblem.FORGED
    # signed with another key in the same second: refused, and the other way round
    other, other_feedback = Tokens(OTHER_SECRET), FeedbackTokens(OTHER_SECRET)
    with pytest.raises(TokenInvalid):
        other.read_manage(manage, now=NOW)
    with pytest.raises(TokenInvalid):
        tokens.read_manage(other.manage_token(BERND, now=NOW), now=NOW)
    with pytest.raises(FeedbackInvalid):
        other_feedback.read(other_feedback.item_token(42, 9, Answer.YES), reader, now=NOW)
    assert other.manage_token(BERND, now=NOW) == plain(
        MANAGE, [BERND.id, 1, other.address_tag(BERND)], NOW, OTHER_SECRET
    )


def test_threads_signing_in_the_same_second_make_the_same_tokens() -> None:
    tokens, feedback = Tokens(SECRET), FeedbackTokens(SECRET)
    people = readers(300, seed=8)
    at = NOW + dt.timedelta(hours=5)  # a second no other test signs in: a new serializer

    def sign(s: Subscriber) -> tuple[str, str]:
        return tokens.manage_token(s, now=at), feedback.reader_token(s, 3, now=at)

    expected = [
        (
            plain(MANAGE, [s.id, s.token_version, tokens.address_tag(s)], at),
            plain(READER, [3, feedback.pseudonym(s), s.org_type.value], at),
        )
        for s in people
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(sign, people * 4)) == expected * 4


def test_short_payloads_are_not_tried_with_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader's links never shrink under zlib, so a send does not try: the tokens are the
    library's all the same. A short payload that would have shrunk (a long run of one
    character) is signed uncompressed, a few bytes longer, and both forms open."""
    import itsdangerous.url_safe

    from subscribers.tokens import COMPRESS_FROM, dated_serializer

    tokens, feedback = Tokens(SECRET), FeedbackTokens(SECRET)
    people = readers(20)
    expected = [plain(MANAGE, [s.id, s.token_version, tokens.address_tag(s)], NOW) for s in people]
    tried: list[bytes] = []
    real = itsdangerous.url_safe.zlib.compress

    def counting(data: bytes, *args: Any) -> bytes:
        tried.append(data)
        return real(data, *args)

    monkeypatch.setattr(itsdangerous.url_safe.zlib, "compress", counting)
    assert [tokens.manage_token(s, now=NOW) for s in people] == expected
    for s in people:
        feedback.reader_token(s, 42, now=NOW)
    assert tried == []
    tried.clear()
    # a profile makes the payload long: tried, and compressed as the library does
    assert tokens.confirm_token(BERND, now=NOW, profile=PROFILE).startswith(".")
    assert len(tried) == 1 and len(tried[0]) >= COMPRESS_FROM

    repetitive = [7, 1, "a" * 40]  # 19 + 40 bytes of JSON: zlib would win
    ours = dated_serializer(SECRET, MANAGE, NOW).dumps(repetitive)
    theirs = plain(MANAGE, repetitive, NOW)
    assert theirs.startswith(".") and not ours.startswith(".")
    assert len(ours) > len(theirs)
    for token in (ours, theirs):
        assert URLSafeTimedSerializer(SECRET, salt=MANAGE).loads(token) == repetitive
        assert dated_serializer(SECRET, MANAGE, NOW).loads(token) == repetitive
