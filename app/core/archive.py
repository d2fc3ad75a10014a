"""The audit archive: events leave the graph only after they are written here.

One gzip'd JSON Lines file per UTC day (``events-2026-12-05.jsonl.gz``; a second file for a
day, ``….2.jsonl.gz``, only if events of that day were written after it was archived), each
line in the format of ``baton audit export``. ``chain.jsonl`` lists the files in order, each
with its SHA-256 and a chain hash over the previous entry, and the graph keeps the newest
chain hash (``Archive {name: 'events'}``): a changed, removed or added file, or a rewritten
chain, fails ``baton audit verify`` (the last two against the graph's head, ``--head``).

The graph is the authority on what is archived: a file written but not yet recorded there
(a crash between the two) is written again by the next run, and its chain line replaced.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core import events
from app.graph import GraphStore
from app.graph.queries import q

STATE = q("retention/state")
ARCHIVED = q("retention/archived")
PAGE_STMT = q("retention/archive_page")

CHAIN = "chain.jsonl"
GENESIS = "0" * 64
DAY_MS = 86_400_000
PAGE = 100  # events per read: a short read, so writers meanwhile barely wait


@dataclass(frozen=True)
class Entry:
    """One archived file, as ``chain.jsonl`` lists it."""

    file: str
    day: str
    first_seq: int
    last_seq: int
    events: int
    sha256: str
    prev: str  # the previous entry's chain hash (GENESIS for the first)
    chain: str  # sha256 over prev and this entry's fields

    @staticmethod
    def link(prev: str, file: str, day: str, first: int, last: int, n: int, sha: str) -> str:
        """The chain hash of an entry: it covers the previous entry, so no entry can be
        changed, dropped or reordered without changing every hash after it."""
        text = f"{prev}|{file}|{day}|{first}|{last}|{n}|{sha}"
        return hashlib.sha256(text.encode()).hexdigest()

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class State:
    """Where the archive and pruning stand, read from the graph."""

    through: int  # highest archived seq
    head: str | None  # chain hash of the newest file
    day: str | None
    files: int
    location: str | None
    pruned: int  # highest seq deleted from the graph


async def state(store: GraphStore) -> State:
    row = (await store.read(STATE))[0]
    return State(
        int(row["through"]),
        row["head"],
        row["day"],
        int(row["files"] or 0),
        row["location"],
        int(row["pruned"]),
    )


def through_before(root: Path, cutoff: int, st: State) -> int:
    """The last archived seq of the days that ended by ``cutoff``: pruning goes up to it.
    Read from the chain (days and their seqs), not from the log, so finding it costs no
    scan of a million events (and no index on their time)."""
    last = 0
    for e in read_chain(root):
        end = int(datetime.strptime(e.day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
        if e.last_seq <= st.through and end + DAY_MS <= cutoff:
            last = max(last, e.last_seq)
    return last


def read_chain(root: Path) -> list[Entry]:
    path = root / CHAIN
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            out.append(Entry(**json.loads(line)))
    return out


def _durable_write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (temp file, fsync, rename, fsync the directory)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d")


def _day_end(at_ms: int) -> int:
    start = datetime.fromtimestamp(at_ms / 1000, UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return int((start + timedelta(days=1)).timestamp() * 1000)


async def _day_events(store: GraphStore, after: int, today: int) -> list[events.Event]:
    """The events after seq ``after`` up to the end of the first one's UTC day: a contiguous
    run of seqs (it stops at the first event of a later day), none of today's."""
    out: list[events.Event] = []
    end: int | None = None
    while True:
        page = [
            events.Event.from_row(r) for r in await store.read(PAGE_STMT, after=after, limit=PAGE)
        ]
        for ev in page:
            end = end if end is not None else _day_end(ev.at)
            if ev.at >= end or ev.at >= today:
                return out
            out.append(ev)
        if len(page) < PAGE:
            return out
        after = page[-1].seq


def _file_name(day: str, chain: list[Entry]) -> str:
    taken = {e.file for e in chain}
    name, n = f"events-{day}.jsonl.gz", 1
    while name in taken:
        n += 1
        name = f"events-{day}.{n}.jsonl.gz"
    return name


async def archive(store: GraphStore, root: Path, *, now: int) -> list[Entry]:
    """Archive every whole UTC day before today that is not archived yet, oldest first, one
    file per day; each file is recorded in the graph (and an ``audit.archived`` event) once
    it is on disk. Returns the files written."""
    root.mkdir(parents=True, exist_ok=True)
    today = _day_end(now) - DAY_MS
    written: list[Entry] = []
    while True:
        st = await state(store)
        chain = read_chain(root)
        committed = [e for e in chain if e.last_seq <= st.through]
        if st.head is not None and (not committed or committed[-1].chain != st.head):
            raise ArchiveMismatch(
                f"{root / CHAIN} does not end at the graph's archive head "
                f"{st.head}: is this the right archive directory?"
            )
        if len(committed) != len(chain):  # a file written, never recorded: write it again
            _durable_write(root / CHAIN, "".join(e.line() for e in committed).encode())
        evs = await _day_events(store, st.through, today)
        if not evs:
            return written
        day = _day(evs[0].at)
        name = _file_name(day, committed)
        prev = committed[-1].chain if committed else GENESIS
        # encoding, compressing, hashing and fsyncing a day is CPU and disk work: off the
        # event loop, so the requests this process serves meanwhile do not wait for it
        entry = await asyncio.to_thread(_write_day, root, name, day, prev, evs, committed)
        first, last, sha = entry.first_seq, entry.last_seq, entry.sha256
        rows = await store.write(
            ARCHIVED,
            prev=st.through,
            through=last,
            day=day,
            head=entry.chain,
            location=str(root.resolve()),
            now=now,
            payload=events.dumps(
                {
                    "file": name,
                    "day": day,
                    "firstSeq": first,
                    "lastSeq": last,
                    "events": len(evs),
                    "sha256": sha,
                }
            ),
        )
        if not rows:
            raise ArchiveMismatch("another process archived at the same time; run again")
        written.append(entry)


def _write_day(
    root: Path, name: str, day: str, prev: str, evs: list[events.Event], committed: list[Entry]
) -> Entry:
    """Write one day's file and the chain that lists it (both durable) and return its entry."""
    body = "".join(events.dumps(ev.__dict__) + "\n" for ev in evs).encode()
    data = gzip.compress(body, mtime=0)
    sha = hashlib.sha256(data).hexdigest()
    first, last = evs[0].seq, evs[-1].seq
    entry = Entry(
        name,
        day,
        first,
        last,
        len(evs),
        sha,
        prev,
        Entry.link(prev, name, day, first, last, len(evs), sha),
    )
    _durable_write(root / name, data)
    _durable_write(root / CHAIN, "".join(e.line() for e in [*committed, entry]).encode())
    return entry


class ArchiveMismatch(RuntimeError):
    """The archive directory and the graph disagree about what has been archived."""


def verify(root: Path, head: str | None = None) -> tuple[list[Entry], list[str]]:
    """Check the archive: every listed file present with its SHA-256, every chain hash,
    seqs contiguous from 1 across files and inside each, no unlisted file; with ``head``
    (the graph's, from ``auditLog { archive { chainHead } }``) the chain must end there.
    Returns the entries and the problems found (none: intact)."""
    problems: list[str] = []
    try:
        chain = read_chain(root)
    except (ValueError, TypeError) as exc:
        return [], [f"{CHAIN}: unreadable ({exc})"]
    prev, expect = GENESIS, 1
    for e in chain:
        where = f"{e.file}:"
        if e.prev != prev:
            problems.append(f"{where} chain broken (prev {e.prev[:12]}…, expected {prev[:12]}…)")
        link = Entry.link(e.prev, e.file, e.day, e.first_seq, e.last_seq, e.events, e.sha256)
        if link != e.chain:
            problems.append(f"{where} chain hash does not match its entry")
        if e.first_seq != expect:
            problems.append(
                f"{where} starts at seq {e.first_seq}, expected {expect} (a file is missing)"
            )
        prev, expect = e.chain, e.last_seq + 1
        path = root / e.file
        if not path.exists():
            problems.append(f"{where} missing")
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != e.sha256:
            problems.append(f"{where} SHA-256 differs from the chain (the file was changed)")
            continue
        problems += _check_lines(where, data, e)
    listed = {e.file for e in chain}
    for extra in sorted(p.name for p in root.glob("events-*.jsonl.gz")):
        if extra not in listed:
            problems.append(f"{extra}: not in {CHAIN}")
    if head is not None and (chain[-1].chain if chain else None) != head:
        problems.append(
            f"{CHAIN} does not end at the graph's head {head[:12]}… (rewritten or truncated)"
        )
    return chain, problems


def _check_lines(where: str, data: bytes, e: Entry) -> list[str]:
    try:
        seqs = [int(json.loads(line)["seq"]) for line in gzip.decompress(data).splitlines()]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{where} unreadable ({exc})"]
    if seqs != list(range(e.first_seq, e.last_seq + 1)) or len(seqs) != e.events:
        return [f"{where} holds seqs other than {e.first_seq}..{e.last_seq}"]
    return []
