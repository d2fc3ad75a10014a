"""A deterministic generator of a realistic Backstage Software Catalog (descriptor files,
`backstage.io/v1alpha1`), written as a directory the way enterprises keep one: a root
`catalog-info.yaml` whose Location points at `org/groups.yaml`, `org/users.yaml` and one
file per domain (`domains/payments.yaml`, …), several documents per file.

Why generate rather than hand-write: the import benchmark (issue 24) needs 50,000 entities
that look like a real organisation (domains, systems, services with their databases and
queues, APIs provided and consumed across domains, a group hierarchy, people in one or two
teams, two namespaces) so that what it measures is what a customer's catalog costs; and the
descriptions are sentences built from each domain's vocabulary, because they will feed
semantic search. The same seed always writes the same bytes; `change_fraction` rewrites
only some descriptions (a "1% changed" re-import), `invalid` appends documents the reader
must reject (in `invalid.yaml`, also named by the Location).

    python bench/catalog_gen.py OUT_DIR [--entities 50000] [--seed 7] [--change-fraction 0.01]
                                [--invalid 3]
    python bench/catalog_gen.py --json [--quick]   # a timing run into a temporary directory
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API_VERSION = "backstage.io/v1alpha1"
ORG = "acme"
MIN_ENTITIES = 100  # below this a domain cannot have its systems, teams and people
LABEL = {
    "domain": "Domain",
    "system": "System",
    "component": "Component",
    "api": "API",
    "resource": "Resource",
    "group": "Group",
    "user": "User",
}


@dataclass(frozen=True)
class Vocab:
    """What a domain is about: the words its descriptions are made of. `nouns` are
    (slug for names, phrase for sentences); verbs are in the base form."""

    blurb: str
    nouns: tuple[tuple[str, str], ...]
    verbs: tuple[str, ...]
    audiences: tuple[str, ...]
    namespace: str = "default"


def _v(blurb: str, nouns: str, verbs: str, audiences: str, namespace: str = "default") -> Vocab:
    """A Vocab from compact text: nouns as `slug=phrase;…`, the rest `;`-separated."""
    pairs = tuple((slug, phrase) for slug, phrase in (p.split("=", 1) for p in nouns.split(";")))
    return Vocab(blurb, pairs, tuple(verbs.split(";")), tuple(audiences.split(";")), namespace)


# The order matters: a small catalog takes the first domains (the third is namespaced, so
# every catalog has entities outside `default`).
DOMAINS: dict[str, Vocab] = {
    "payments": _v(
        "Everything that moves money: card acceptance, ledgers, payouts and fraud checks.",
        "card=card payments;ledger=ledger entries;payout=merchant payouts;refund=refunds and "
        "chargebacks;fraud-scoring=fraud scores;billing=subscription billing;invoice=invoices;"
        "wallet=wallet balances;settlement=scheme settlement files;fx=currency conversion "
        "rates;tokenization=card tokens;dispute=payment disputes",
        "authorise;capture;reconcile;settle;validate;tokenise;schedule;compute;audit",
        "the checkout flow;merchants;finance operations;the risk team;partner banks",
    ),
    "commerce": _v(
        "The storefront: catalogue browsing, carts, checkout and orders.",
        "cart=shopping carts;checkout=checkout sessions;order=customer orders;pricing=prices "
        "and discounts;promo=promotion codes;inventory=stock levels;review=product reviews;"
        "wishlist=wishlists;recommendation=product recommendations;storefront=storefront "
        "pages;bundle=product bundles;returns=returns and exchanges",
        "build;price;validate;track;render;rank;reserve;apply;aggregate",
        "shoppers;the mobile app;merchandisers;customer support;marketplace sellers",
    ),
    "data": _v(
        "The analytics platform: event ingestion, the warehouse, reporting and ML features.",
        "ingest=clickstream events;warehouse=warehouse tables;etl=ETL batches;feature=ML "
        "feature vectors;report=business reports;lineage=dataset lineage;quality=data quality "
        "checks;experiment=A/B experiment results;metrics=product metrics;cdc=change data "
        "capture streams",
        "ingest;transform;aggregate;validate;publish;backfill;profile;deduplicate",
        "analysts;data scientists;product managers;the finance team;ML models",
        "analytics",
    ),
    "identity": _v(
        "Who is who: sign-in, sessions, permissions and customer profiles.",
        "auth=sign-in flows;session=user sessions;token=access tokens;mfa=multi-factor "
        "challenges;profile=customer profiles;consent=privacy consents;role=roles and "
        "permissions;sso=single sign-on federation;password=password resets;device=trusted "
        "devices",
        "issue;verify;revoke;rotate;store;federate;audit;enforce",
        "every customer-facing app;employees;partner integrations;the security team",
        "security",
    ),
    "logistics": _v(
        "Getting parcels to customers: warehouses, carriers, routing and tracking.",
        "shipment=shipments;carrier=carrier bookings;route=delivery routes;tracking=parcel "
        "tracking events;fulfilment=warehouse picking slots;label=shipping labels;eta=delivery "
        "time estimates;pickup=return pickups;fleet=fleet telemetry;customs=customs "
        "declarations",
        "plan;book;track;print;estimate;optimise;dispatch;reconcile",
        "warehouse staff;carriers;customers waiting for a parcel;the operations centre",
    ),
    "platform": _v(
        "Shared infrastructure: CI/CD, clusters, observability and developer tooling.",
        "deploy=deployments;cluster=Kubernetes clusters;build=CI builds;secret=secrets;"
        "telemetry=service metrics;logging=application logs;tracing=distributed traces;"
        "dns=DNS records;edge=edge traffic;cost=cloud costs;flags=feature flags",
        "provision;schedule;collect;rotate;route;scale;monitor;enforce",
        "every engineering team;on-call engineers;the SRE team;release managers",
    ),
    "marketing": _v(
        "Reaching customers: campaigns, email, segmentation and attribution.",
        "campaign=marketing campaigns;email=email sends;segment=customer segments;"
        "attribution=channel attribution;newsletter=newsletters;coupon=coupon codes;"
        "affiliate=affiliate clicks;seo=SEO landing pages;engagement=re-engagement journeys;"
        "loyalty=loyalty points",
        "target;schedule;personalise;measure;send;attribute;segment",
        "marketers;the growth team;affiliates;loyalty members",
    ),
    "support": _v(
        "Helping customers: tickets, chat, the help centre and feedback.",
        "ticket=support tickets;chat=live chat conversations;helpcenter=help centre articles;"
        "feedback=customer feedback;escalation=escalations;sla=SLA timers;callback=phone "
        "callbacks;survey=satisfaction surveys;macro=agent reply macros",
        "route;triage;escalate;answer;summarise;track;measure",
        "support agents;customers;team leads;the quality team",
    ),
    "finance": _v(
        "Company money: accounting, tax, budgeting and revenue recognition.",
        "accounting=accounting journals;tax=tax calculations;budget=budgets;revenue=revenue "
        "recognition schedules;expense=expense claims;procurement=purchase orders;"
        "treasury=treasury cash positions;payroll=payroll runs;audit-trail=audit evidence",
        "post;calculate;forecast;approve;reconcile;close;report",
        "accountants;the CFO office;auditors;budget owners",
    ),
    "search": _v(
        "Finding things: indexing, query understanding, ranking and autocomplete.",
        "index=search indexes;query=search queries;ranking=ranking models;autocomplete="
        "autocomplete suggestions;synonym=synonym dictionaries;facet=search facets;spelling="
        "spelling corrections;crawl=crawled pages",
        "index;rank;rewrite;suggest;score;refresh;evaluate",
        "shoppers;the storefront;merchandisers;relevance engineers",
    ),
    "messaging": _v(
        "Talking to people: notifications, SMS, email delivery and preferences.",
        "notification=notifications;sms=SMS messages;mail=transactional emails;template="
        "message templates;preference=notification preferences;webhook=outgoing webhooks;"
        "inbox=in-app inbox messages;bounce=bounce reports",
        "deliver;render;throttle;retry;track;localise;batch",
        "every product team;customers;partners;the compliance team",
    ),
    "risk": _v(
        "Keeping bad actors out: fraud rules, KYC, sanctions screening and trust scores.",
        "kyc=KYC checks;sanctions=sanctions screening results;rules=fraud rules;trust=trust "
        "scores;case=investigation cases;velocity=velocity limits;chargeback=chargeback "
        "evidence;blocklist=blocklists",
        "screen;score;flag;block;investigate;explain;evaluate",
        "the payments flow;risk analysts;regulators;the onboarding flow",
    ),
    "people": _v(
        "The workplace: hiring, onboarding, time off and the employee directory.",
        "hiring=job applications;onboarding=onboarding checklists;timeoff=time-off requests;"
        "directory=the employee directory;perf=performance reviews;learning=training courses;"
        "benefits=employee benefits;badge=office badges",
        "track;approve;schedule;sync;publish;remind",
        "employees;managers;recruiters;HR business partners",
    ),
    "mobile": _v(
        "The iOS and Android apps and the services behind them.",
        "app-shell=app screens;release=app releases;push=push tokens;crash=crash reports;"
        "remote-config=remote configuration;deeplink=deep links;offline=offline sync state;"
        "bff=backend-for-frontend responses",
        "serve;collect;ship;sync;sign;cache;test",
        "iOS users;Android users;the mobile team;app store reviewers",
    ),
    "content": _v(
        "Editorial and media: the CMS, images, video and translations.",
        "cms=CMS pages;image=product images;video=video streams;translation=translations;"
        "asset=digital assets;banner=homepage banners;moderation=user-generated content;"
        "sitemap=sitemaps",
        "publish;resize;transcode;translate;moderate;cache;schedule",
        "editors;translators;the storefront;partners",
    ),
    "ml": _v(
        "Machine learning: training pipelines, model serving and evaluation.",
        "training=training runs;serving=model predictions;model-registry=model versions;"
        "labeling=labelled examples;embedding=text embeddings;evaluation=model evaluations;"
        "drift=data drift alerts;forecast=demand forecasts",
        "train;serve;evaluate;version;label;monitor;embed",
        "data scientists;product features;the search team;planners",
    ),
}

FACETS = (
    "core",
    "platform",
    "gateway",
    "reporting",
    "eu",
    "us",
    "apac",
    "batch",
    "realtime",
    "legacy",
    "v2",
    "internal",
    "partner",
    "self-serve",
    "ops",
    "sync",
    "hub",
    "engine",
)
ROLES = {
    "service": (
        "api",
        "service",
        "worker",
        "consumer",
        "scheduler",
        "gateway",
        "adapter",
        "processor",
        "sync",
        "exporter",
        "importer",
        "bff",
    ),
    "website": ("web", "portal", "admin", "dashboard", "console"),
    "library": ("client", "sdk", "lib", "models", "common"),
}
ROLE_PHRASE = {
    "worker": "Background worker that",
    "consumer": "Stream consumer that",
    "scheduler": "Scheduled job that",
    "gateway": "Gateway that",
    "adapter": "Adapter that",
    "processor": "Processor that",
    "sync": "Sync job that",
    "exporter": "Exporter that",
    "importer": "Importer that",
    "bff": "Backend-for-frontend that",
}
LANGS = ("java", "go", "python", "typescript", "kotlin", "rust", "scala", "csharp")
TAGS = (
    "pci",
    "gdpr",
    "tier-1",
    "tier-2",
    "tier-3",
    "internal",
    "public",
    "customer-facing",
    "batch",
    "realtime",
    "critical",
    "cost-sensitive",
)
RESOURCES = {  # type -> ((engine, noun, name suffixes), …)
    "database": (
        ("PostgreSQL", "database", ("db", "store")),
        ("MySQL", "database", ("db",)),
        ("DynamoDB", "table", ("table", "store")),
        ("MongoDB", "database", ("docs",)),
        ("Cassandra", "keyspace", ("keyspace",)),
    ),
    "queue": (
        ("Kafka", "topic", ("events", "topic")),
        ("SQS", "queue", ("jobs", "queue")),
        ("RabbitMQ", "exchange", ("exchange",)),
    ),
    "bucket": (
        ("S3", "bucket", ("archive", "exports", "assets")),
        ("GCS", "bucket", ("bucket", "snapshots")),
    ),
    "cache": (("Redis", "cluster", ("cache",)), ("Memcached", "pool", ("memcache",))),
}
API_TYPES = (
    ("openapi", ("api", "rest-api", "http")),
    ("grpc", ("grpc",)),
    ("asyncapi", ("events-api", "stream-api")),
)
FIRST = (
    "maria james robert linda michael sarah david emma daniel olivia lucas sofia ahmed fatima "
    "wei li hiroshi yuki priya arjun chloe noah amara kwame ines mateo elena ivan anya "
    "omar leila jonas freya luca giulia pierre camille tomasz zofia sven ingrid diego "
    "valentina kofi zanele ravi ananya mei chen hannah samuel nadia yusuf clara felix "
    "rosa hugo alice bob"
).split()
LAST = (
    "garcia smith johnson brown jones miller davis wilson anderson taylor thomas moore "
    "martin jackson white harris clark lewis robinson walker young allen king wright scott "
    "nguyen tran kim park chen wang zhang liu singh patel sharma khan ali hassan okafor "
    "mensah diallo moreau dubois laurent rossi russo ferrari muller schmidt schneider "
    "fischer weber novak kowalski nowak ivanova petrov silva santos costa oliveira "
    "fernandez lopez gonzalez hernandez svensson johansson nielsen hansen berg dahl "
    "tanaka suzuki sato yamamoto"
).split()


@dataclass
class Ent:
    """One entity before it is written: enough to render it and to point refs at it."""

    kind: str  # lower case, as in refs
    name: str
    ns: str
    domain: str  # the vocabulary it draws from
    file: str
    meta: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    noun: tuple[str, str] = ("", "")  # (slug, phrase) it is about
    type: str = ""

    def doc(self) -> dict[str, Any]:
        meta = {
            "name": self.name,
            **({"namespace": self.ns} if self.ns != "default" else {}),
            **self.meta,
        }
        return {
            "apiVersion": API_VERSION,
            "kind": LABEL[self.kind],
            "metadata": meta,
            "spec": self.spec,
        }


@dataclass
class System:
    ent: Ent
    owner: Ent
    components: list[Ent] = field(default_factory=list)
    apis: list[Ent] = field(default_factory=list)
    resources: list[Ent] = field(default_factory=list)


@dataclass
class Catalog:
    """Everything generated, in file order; `by_domain` holds each domain file's entities."""

    groups: list[Ent] = field(default_factory=list)
    users: list[Ent] = field(default_factory=list)
    domains: dict[str, Ent] = field(default_factory=dict)
    depts: dict[str, Ent] = field(default_factory=dict)  # domain -> its department group
    teams: dict[str, list[Ent]] = field(default_factory=dict)  # domain -> its teams
    systems: dict[str, list[System]] = field(default_factory=dict)  # domain -> its systems
    apis: list[Ent] = field(default_factory=list)
    components: list[Ent] = field(default_factory=list)

    def by_domain(self, domain: str) -> Iterator[Ent]:
        yield self.domains[domain]
        for s in self.systems[domain]:
            yield s.ent
            yield from s.components
            yield from s.apis
            yield from s.resources


class Names:
    """Unique names per (kind, namespace): a clash first takes the domain as a prefix (as
    teams do when two domains both have 'returns'), then a number."""

    def __init__(self) -> None:
        self.taken: set[tuple[str, str, str]] = set()

    def claim(self, kind: str, ns: str, name: str, prefix: str = "") -> str:
        for cand in self._candidates(name, prefix):
            if (kind, ns, cand) not in self.taken:
                self.taken.add((kind, ns, cand))
                return cand
        raise AssertionError("unreachable")

    @staticmethod
    def _candidates(name: str, prefix: str) -> Iterator[str]:
        yield name
        if prefix:
            yield f"{prefix}-{name}"
        i = 2
        while True:
            yield f"{name}-{i}"
            i += 1


def _other(rng: random.Random, vocab: Vocab, noun: tuple[str, str]) -> str:
    """Another thing the domain is about, for sentences that name two."""
    pick = rng.choice(vocab.nouns)
    return (
        pick[1]
        if pick != noun
        else vocab.nouns[(vocab.nouns.index(noun) + 1) % len(vocab.nouns)][1]
    )


def third(verb: str) -> str:
    """The third person of an English verb in the base form (authorise -> authorises)."""
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def ref(rng: random.Random, target: Ent, src_ns: str, default_kind: str | None) -> str:
    """A ref to ``target`` as people write them: short where Backstage allows it (same
    namespace, the field's own kind), `kind:name`, `namespace/name` or the full form."""
    forms = []
    same = target.ns == src_ns
    if same and default_kind == target.kind:
        forms.append(target.name)
    if same:
        forms.append(f"{target.kind}:{target.name}")
    if default_kind == target.kind:
        forms.append(f"{target.ns}/{target.name}")
    forms.append(f"{target.kind}:{target.ns}/{target.name}")
    return rng.choice(forms)


def plan(entities: int) -> dict[str, int]:
    """How many entities of each kind make ``entities`` in all (the proportions of a
    large catalog: people ~30%, components ~36%, resources 14%, APIs 11%, systems 5%)."""
    if entities < MIN_ENTITIES:
        raise ValueError(f"--entities must be at least {MIN_ENTITIES}")
    d = min(len(DOMAINS), max(3, entities // 50))
    counts = {
        "domain": d,
        "group": max(1 + 3 * d, round(entities * 0.04)),
        "user": round(entities * 0.30),
        "system": max(2 * d, round(entities * 0.05)),
        "api": round(entities * 0.11),
        "resource": round(entities * 0.14),
    }
    counts["component"] = entities - sum(counts.values())
    return counts


def spread(rng: random.Random, total: int, keys: list[str], least: int) -> dict[str, int]:
    """``total`` split over ``keys``, each at least ``least``, the rest by uneven weights
    (some domains are much bigger than others)."""
    out = dict.fromkeys(keys, least)
    weights = [rng.uniform(0.4, 1.6) for _ in keys]
    for k in rng.choices(keys, weights, k=max(0, total - least * len(keys))):
        out[k] += 1
    return out


def build_org(rng: random.Random, cat: Catalog, names: Names, n_groups: int, n_users: int) -> None:
    """The group tree (organisation, one department per domain, areas in big departments,
    teams) and the people, each in a team of their own namespace, a quarter in a second
    group; the first person outside `default` shares a name with someone inside it."""
    root = Ent("group", ORG, "default", "", "org/groups.yaml", type="organization")
    names.claim("group", "default", ORG)
    root.meta = {"title": "ACME Corp", "description": "The whole company."}
    cat.groups.append(root)
    children: dict[int, list[Ent]] = {id(root): []}
    per = spread(rng, n_groups - 1 - len(cat.domains), list(cat.domains), 2)
    for key, n_teams in per.items():
        vocab, ns = DOMAINS[key], DOMAINS[key].namespace
        dept = Ent(
            "group",
            names.claim("group", ns, f"{key}-eng"),
            ns,
            key,
            "org/groups.yaml",
            type="department",
        )
        dept.meta = {
            "title": f"{cap(key)} Engineering",
            "description": f"{cap(key)} engineering. {vocab.blurb}",
        }
        cat.groups.append(dept)
        cat.depts[key] = dept
        children[id(root)].append(dept)
        children[id(dept)] = []
        areas = [dept]
        if n_teams >= 10:
            for i in range(n_teams // 8):
                slug = vocab.nouns[i % len(vocab.nouns)][0]
                area = Ent(
                    "group",
                    names.claim("group", ns, f"{slug}-area", key),
                    ns,
                    key,
                    "org/groups.yaml",
                    type="area",
                )
                area.meta = {
                    "description": f"The {slug} area of {key}: its teams share "
                    f"on-call and planning."
                }
                cat.groups.append(area)
                children[id(dept)].append(area)
                children[id(area)] = []
                areas.append(area)
            n_teams -= n_teams // 8
        cat.teams[key] = []
        for i in range(n_teams):
            noun = vocab.nouns[i % len(vocab.nouns)]
            parent = areas[1 + i % (len(areas) - 1)] if len(areas) > 1 else dept
            team = Ent(
                "group",
                names.claim("group", ns, f"{noun[0]}-team", key),
                ns,
                key,
                "org/groups.yaml",
                noun=noun,
                type="team",
            )
            other = _other(rng, vocab, noun)
            team.meta = {
                "description": rng.choice(
                    (
                        f"Builds and runs {noun[1]} and {other}.",
                        f"Owns {noun[1]} end to end, for {rng.choice(vocab.audiences)}.",
                        f"The {key} team behind {noun[1]}; also looks after {other}.",
                    )
                )
            }
            cat.groups.append(team)
            cat.teams[key].append(team)
            children[id(parent)].append(team)
            children[id(team)] = []
    parents = {id(c): p for p in cat.groups for c in children[id(p)]}
    for g in cat.groups:
        display = g.meta.get("title") or g.name.replace("-", " ").title()
        g.spec = {
            "type": g.type,
            "profile": {"displayName": display, "email": f"{g.name}@{ORG}.example"},
        }
        if id(g) in parents:
            g.spec["parent"] = ref(rng, parents[id(g)], g.ns, "group")
        g.spec["children"] = [ref(rng, c, g.ns, "group") for c in children[id(g)]]
    _people(rng, cat, names, n_users)


def _people(rng: random.Random, cat: Catalog, names: Names, n: int) -> None:
    teams = [t for ts in cat.teams.values() for t in ts]
    seconds = teams + [cat.groups[0], *cat.depts.values()]  # a second team, or a department
    first_default: str | None = None
    twin_done = False
    for _ in range(n):
        team = rng.choice(teams)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        wanted = f"{first}.{last}"
        if team.ns != "default" and not twin_done and first_default:
            wanted, twin_done = first_default, True  # same person-name, another namespace
        name = names.claim("user", team.ns, wanted)
        if team.ns == "default" and first_default is None:
            first_default = name
        display = " ".join(cap(p) for p in name.split("-")[0].split("."))
        user = Ent("user", name, team.ns, team.domain, "org/users.yaml")
        groups = [team]
        if rng.random() < 0.25:
            extra = rng.choice(seconds)
            if extra is not team:
                groups.append(extra)
        host = f"{ORG}.example" if team.ns == "default" else f"{team.ns}.{ORG}.example"
        user.spec = {
            "profile": {"displayName": display, "email": f"{name}@{host}"},
            "memberOf": [ref(rng, g, user.ns, "group") for g in groups],
        }
        cat.users.append(user)


def build_domains(rng: random.Random, cat: Catalog, names: Names, counts: dict[str, int]) -> None:
    """Domains and their systems; every system gets one service first (it provides the
    system's APIs), then components, resources and APIs land on systems unevenly."""
    keys = list(cat.domains)
    per = spread(rng, counts["system"], keys, 2)
    systems: list[System] = []
    for key in keys:
        vocab, ns = DOMAINS[key], DOMAINS[key].namespace
        dom = cat.domains[key]
        dom.spec = {"owner": ref(rng, cat.depts[key], ns, "group")}
        cat.systems[key] = []
        for i in range(per[key]):
            noun = vocab.nouns[i % len(vocab.nouns)]
            lap = i // len(vocab.nouns)
            base = noun[0] if lap == 0 else f"{noun[0]}-{FACETS[(lap - 1) % len(FACETS)]}"
            ent = Ent(
                "system",
                names.claim("system", ns, base, key),
                ns,
                key,
                f"domains/{key}.yaml",
                noun=noun,
            )
            owner = cat.teams[key][i % len(cat.teams[key])]
            ent.spec = {
                "owner": ref(rng, owner, ns, "group"),
                "domain": ref(rng, dom, ns, "domain"),
            }
            sys_ = System(ent, owner)
            cat.systems[key].append(sys_)
            systems.append(sys_)
    weights = [rng.lognormvariate(0, 0.6) for _ in systems]
    homes = systems + rng.choices(systems, weights, k=counts["component"] - len(systems))
    for i, s in enumerate(homes):
        _component(rng, cat, names, s, "service" if i < len(systems) else None)
    for s in rng.choices(systems, weights, k=counts["resource"]):
        _resource(rng, names, s)
    for s in rng.choices(systems, weights, k=counts["api"]):
        _api(rng, cat, names, s)


def _component(rng: random.Random, cat: Catalog, names: Names, s: System, kind: str | None) -> None:
    ctype = kind or rng.choices(("service", "website", "library"), (60, 15, 25))[0]
    role = rng.choice(ROLES[ctype])
    ent = Ent(
        "component",
        names.claim("component", s.ent.ns, f"{s.ent.name}-{role}"),
        s.ent.ns,
        s.ent.domain,
        s.ent.file,
        type=ctype,
        noun=rng.choice(DOMAINS[s.ent.domain].nouns),
    )
    ent.meta["role"] = role
    s.components.append(ent)
    cat.components.append(ent)


def _resource(rng: random.Random, names: Names, s: System) -> None:
    rtype = rng.choices(list(RESOURCES), (45, 30, 15, 10))[0]
    engine, noun, suffixes = rng.choice(RESOURCES[rtype])
    ent = Ent(
        "resource",
        names.claim("resource", s.ent.ns, f"{s.ent.name}-{rng.choice(suffixes)}"),
        s.ent.ns,
        s.ent.domain,
        s.ent.file,
        type=rtype,
        noun=s.ent.noun,
    )
    ent.meta = {"engine": engine, "unit": noun}
    s.resources.append(ent)


def _api(rng: random.Random, cat: Catalog, names: Names, s: System) -> None:
    atype, suffixes = rng.choices(API_TYPES, (60, 25, 15))[0]
    ent = Ent(
        "api",
        names.claim("api", s.ent.ns, f"{s.ent.name}-{rng.choice(suffixes)}"),
        s.ent.ns,
        s.ent.domain,
        s.ent.file,
        type=atype,
        noun=rng.choice(DOMAINS[s.ent.domain].nouns),
    )
    s.apis.append(ent)
    cat.apis.append(ent)


def wire(rng: random.Random, cat: Catalog) -> None:
    """Specs, relations and descriptions. Dependencies stay mostly inside the domain (a
    tenth cross it, as payments' callers do); descriptions name what an entity talks to."""
    flat = [s for ss in cat.systems.values() for s in ss]
    pools = Pools(list(cat.domains), cat.teams)
    for key, ss in cat.systems.items():
        pools.by[f"{key}/api"] = [a for s in ss for a in s.apis]
        for t in ROLES:
            pools.by[f"{key}/{t}"] = [c for s in ss for c in s.components if c.type == t]
    for s in flat:
        _describe_system(rng, s)
        for res in s.resources:
            _wire_resource(rng, s, res)
        services = [c for c in s.components if c.type == "service"]
        for api in s.apis:
            provider = rng.choice(services)
            provider.meta.setdefault("provides", []).append(api)
        for comp in s.components:
            _wire_component(rng, s, comp, pools)
    for s in flat:
        for api in s.apis:
            _wire_api(rng, s, api)


@dataclass
class Pools:
    """What a component may depend on: APIs and components by `domain/type`, teams."""

    domains: list[str]
    teams: dict[str, list[Ent]]
    by: dict[str, list[Ent]] = field(default_factory=dict)

    def pick(self, rng: random.Random, home: str, kind: str, k: int, me: Ent) -> list[Ent]:
        """Up to k distinct entities of ``kind``, 90% from the home domain."""
        out: list[Ent] = []
        for _ in range(k):
            key = home if rng.random() < 0.9 else rng.choice(self.domains)
            pool = self.by[f"{key}/{kind}"]
            if pool:
                cand = rng.choice(pool)
                if cand is not me and cand not in out:
                    out.append(cand)
        return out


def _wire_component(rng: random.Random, s: System, c: Ent, pools: Pools) -> None:
    ns = c.ns
    provides: list[Ent] = c.meta.pop("provides", [])
    role = c.meta.pop("role")
    n_res = rng.randint(0, 3) if c.type == "service" else 0
    res = rng.sample(s.resources, min(len(s.resources), n_res))
    deps = pools.pick(rng, c.domain, "library", rng.randint(0, 1), c)
    consumed: list[Ent] = []
    if c.type != "library":
        deps = pools.pick(rng, c.domain, "service", rng.randint(0, 2), c) + deps
        least = 0 if c.type == "service" else 1
        consumed = [
            a
            for a in pools.pick(rng, c.domain, "api", rng.randint(least, 3), c)
            if a not in provides
        ]
    spec: dict[str, Any] = {
        "type": c.type,
        "lifecycle": _lifecycle(rng),
        "owner": ref(
            rng, s.owner if rng.random() < 0.8 else rng.choice(pools.teams[c.domain]), ns, "group"
        ),
        "system": ref(rng, s.ent, ns, "system"),
    }
    head = s.components[0]  # never a subcomponent itself: no PART_OF cycles
    if c is not head and rng.random() < 0.04:
        spec["subcomponentOf"] = ref(rng, head, ns, "component")
        deps = [d for d in deps if d is not head]
    if provides:
        spec["providesApis"] = [ref(rng, a, ns, "api") for a in provides]
    if consumed:
        spec["consumesApis"] = [ref(rng, a, ns, "api") for a in consumed]
    if deps or res:
        spec["dependsOn"] = [ref(rng, d, ns, None) for d in [*deps, *res]]
    c.spec = spec
    c.meta = _component_meta(rng, s, c, role, deps, res, consumed)


def _component_meta(
    rng: random.Random,
    s: System,
    c: Ent,
    role: str,
    deps: list[Ent],
    res: list[Ent],
    consumed: list[Ent],
) -> dict[str, Any]:
    lang = rng.choice(LANGS)
    mono = rng.random() < 0.5  # a system monorepo, else a repo per component
    folder = {"service": "services", "website": "web", "library": "libs"}[c.type]
    repo, path = (s.ent.name, f"{folder}/{c.name}") if mono else (c.name, "")
    ann = {
        "backstage.io/source-location": f"url:https://github.com/{ORG}/{repo}/tree/main/"
        f"{path}{'/' if path else ''}",
        "github.com/project-slug": f"{ORG}/{repo}",
    }
    if c.type != "library":
        ann["backstage.io/kubernetes-id"] = c.name
    if rng.random() < 0.5:
        ann["backstage.io/techdocs-ref"] = "dir:."
    meta: dict[str, Any] = {
        "description": describe_component(rng, c, role, deps, res, consumed, lang),
        "tags": _tags(rng, lang),
        "annotations": ann,
    }
    if c.type == "website":
        meta["links"] = [{"url": f"https://{c.name}.{ORG}.example", "title": "Open the site"}]
    return meta


def describe_component(
    rng: random.Random,
    c: Ent,
    role: str,
    deps: list[Ent],
    res: list[Ent],
    consumed: list[Ent],
    lang: str,
) -> str:
    """A sentence or two saying what ``c`` does for whom, and what it talks to."""
    v = DOMAINS[c.domain]
    verb, obj, who = rng.choice(v.verbs), c.noun[1], rng.choice(v.audiences)
    if c.type == "website":
        head = rng.choice(
            (
                f"Web front end where {who} manage {obj}",
                f"Internal console to inspect and correct {obj}",
                f"Dashboard showing {obj} to {who}",
            )
        )
    elif c.type == "library":
        head = rng.choice(
            (
                f"Shared {lang} library to {verb} {obj}",
                f"Client SDK and models for {obj}, used by {who}",
            )
        )
    elif role in ROLE_PHRASE:
        head = f"{ROLE_PHRASE[role]} {third(verb)} {obj} for {who}"
    else:
        other = _other(rng, v, c.noun)
        head = rng.choice(
            (
                f"{cap(third(verb))} {obj} for {who}",
                f"{cap(third(verb))} {obj} and {third(rng.choice(v.verbs))} {other}",
                f"Service that {third(verb)} {obj} on behalf of {who}",
            )
        )
    tails = []
    if deps:
        what = {"service": "service", "website": "site", "library": "library"}[deps[0].type]
        verb_d = "talks to" if deps[0].type == "service" else "builds on"
        words = deps[0].name.replace("-", " ")
        tails.append(f"{verb_d} the {words}" + ("" if words.endswith(what) else f" {what}"))
    for r in res[:1]:
        verb_r = {
            "database": "keeps its state in",
            "queue": "publishes to",
            "bucket": "archives to",
            "cache": "caches in",
        }[r.type]
        tails.append(f"{verb_r} {r.name}")
    if consumed:
        tails.append(f"calls the {consumed[0].name} API")
    rng.shuffle(tails)
    if not tails:
        return f"{head}."
    return f"{head}. It {' and '.join(tails[:2])}."


def _tags(rng: random.Random, lang: str) -> list[str]:
    return [lang, *sorted(rng.sample(TAGS, rng.randint(0, 2)))]


def _lifecycle(rng: random.Random) -> str:
    return rng.choices(("production", "experimental", "deprecated"), (70, 15, 15))[0]


def _describe_system(rng: random.Random, s: System) -> None:
    v = DOMAINS[s.ent.domain]
    obj, other, who = s.ent.noun[1], _other(rng, v, s.ent.noun), rng.choice(v.audiences)
    s.ent.meta = {
        "description": rng.choice(
            (
                f"{cap(obj)} for {who}.",
                f"Everything around {obj}: the services, their data and the APIs others call.",
                f"Owns {obj} and {other} end to end, for {who}.",
                f"{cap(third(rng.choice(v.verbs)))} {obj} and keeps {other} consistent.",
            )
        )
    }
    if rng.random() < 0.3:
        s.ent.meta["title"] = cap(obj)
    s.ent.meta["tags"] = [s.ent.domain]


def _wire_resource(rng: random.Random, s: System, r: Ent) -> None:
    engine, unit = r.meta.pop("engine"), r.meta.pop("unit")
    obj = r.noun[1]
    desc = {
        "database": f"{engine} {unit} holding {obj} for the {s.ent.name} system.",
        "queue": f"{engine} {unit} carrying {obj} changes between {s.ent.name} services.",
        "bucket": f"{engine} {unit} with {obj} exports, kept for {rng.choice((1, 3, 7))} years.",
        "cache": f"{engine} {unit} caching hot {obj} in front of the {s.ent.name} database.",
    }[r.type]
    r.meta = {"description": desc, "tags": [engine.lower()]}
    r.spec = {
        "type": r.type,
        "owner": ref(rng, s.owner, r.ns, "group"),
        "system": ref(rng, s.ent, r.ns, "system"),
    }


def _wire_api(rng: random.Random, s: System, a: Ent) -> None:
    v = DOMAINS[a.domain]
    verb, obj, who = rng.choice(v.verbs), a.noun[1], rng.choice(v.audiences)
    desc = {
        "openapi": rng.choice(
            (
                f"REST API to {verb} {obj} for {who}.",
                f"HTTP API over {obj}: {verb}, list and look up.",
            )
        ),
        "grpc": f"gRPC service that {third(verb)} {obj}; low-latency calls from {who}.",
        "asyncapi": f"Events published whenever {obj} change, for {who}.",
    }[a.type]
    a.meta = {
        "description": desc,
        "tags": [a.type, rng.choice(("internal", "public"))],
        "annotations": {
            "backstage.io/source-location": f"url:https://github.com/{ORG}/"
            f"{s.ent.name}/tree/main/apis/{a.name}/"
        },
    }
    a.spec = {
        "type": a.type,
        "lifecycle": _lifecycle(rng),
        "owner": ref(rng, s.owner, a.ns, "group"),
        "system": ref(rng, s.ent, a.ns, "system"),
        "definition": _definition(a),
    }


def _definition(a: Ent) -> str:
    if a.type == "grpc":
        svc = "".join(cap(p) for p in a.name.split("-"))
        return (
            f'syntax = "proto3";\npackage {ORG}.{a.domain}.v1;\n\n'
            f"service {svc} {{\n  rpc Get(GetRequest) returns (GetResponse);\n}}\n"
        )
    head = "openapi: 3.0.3" if a.type == "openapi" else "asyncapi: 2.6.0"
    body = "paths: {}" if a.type == "openapi" else "channels: {}"
    return f"{head}\ninfo:\n  title: {a.name}\n  version: 1.0.0\n{body}\n"


def change(cat: Catalog, seed: int, fraction: float, total: int) -> int:
    """Rewrite the description of round(fraction × all entities) components and APIs
    (chosen with their own seeded generator, so the rest of the catalog is byte-identical
    to the unchanged one); returns how many changed."""
    pool = cat.components + cat.apis
    k = min(len(pool), round(fraction * total))
    rng = random.Random(seed * 1_000_003 + 17)
    for ent in rng.sample(pool, k):
        v = DOMAINS[ent.domain]
        new = (
            f"{cap(third(rng.choice(v.verbs)))} {rng.choice(v.nouns)[1]} for "
            f"{rng.choice(v.audiences)} (since the {rng.choice(FACETS)} migration)."
        )
        ent.meta["description"] = new if new != ent.meta["description"] else new + " Revised."
    return k


PLAIN_FLOW = re.compile(r"^(?:[A-Za-z]|\./)[A-Za-z0-9._/:@+-]*$")  # safe inside [a, b] too
PLAIN = re.compile(r"^(?:[A-Za-z]|\./)[^\n\t\"'#{}\[\],&*!|>%@`]*$")
YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def scalar(value: object, flow: bool = False) -> str:
    """A YAML scalar: plain when it cannot be read as anything else (sentences too, as
    people write them), else double-quoted (JSON's escapes are YAML's)."""
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    text = str(value)
    safe = (
        PLAIN_FLOW.match(text)
        if flow
        else (PLAIN.match(text) and ": " not in text and not text.endswith((":", " ")))
    )
    if safe and text.lower() not in YAML_WORDS:
        return text
    return json.dumps(text)


def emit(value: dict[str, Any], indent: int, out: list[str]) -> None:
    """A mapping as block YAML (strings with newlines as `|` literals, tags as a flow list):
    written by hand because PyYAML's dumper would take most of a 50,000-entity run."""
    pad = "  " * indent
    for key, val in value.items():
        if isinstance(val, dict):
            out.append(f"{pad}{key}:" if val else f"{pad}{key}: {{}}")
            emit(val, indent + 1, out)
        elif isinstance(val, list):
            if not val or key == "tags":
                out.append(f"{pad}{key}: [{', '.join(scalar(v, flow=True) for v in val)}]")
                continue
            out.append(f"{pad}{key}:")
            for item in val:
                if isinstance(item, dict):
                    sub: list[str] = []
                    emit(item, 0, sub)
                    out.extend([f"{pad}  - {sub[0]}"] + [f"{pad}    {s}" for s in sub[1:]])
                else:
                    out.append(f"{pad}  - {scalar(item)}")
        elif isinstance(val, str) and "\n" in val:
            out.append(f"{pad}{key}: |")
            out.extend(f"{pad}  {line}" if line else "" for line in val.rstrip("\n").split("\n"))
        else:
            out.append(f"{pad}{key}: {scalar(val)}")


def render(docs: list[dict[str, Any]], header: str) -> str:
    out = [header]
    for i, doc in enumerate(docs):
        if i:
            out.append("---")
        emit(doc, 0, out)
    return "\n".join(out) + "\n"


INVALID: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "a Component without spec.owner",
        {
            "apiVersion": API_VERSION,
            "kind": "Component",
            "metadata": {"name": "invalid-no-owner"},
            "spec": {"type": "service", "lifecycle": "production"},
        },
    ),
    # Backstage's reader *skips* unknown kinds (Templates and the like are not errors), so
    # the kind-shaped mistake that it rejects is a document without one.
    (
        "a document without a kind",
        {
            "apiVersion": API_VERSION,
            "metadata": {"name": "invalid-no-kind"},
            "spec": {"type": "service"},
        },
    ),
    (
        "a Component whose dependsOn points at nothing",
        {
            "apiVersion": API_VERSION,
            "kind": "Component",
            "metadata": {"name": "invalid-dangling"},
            "spec": {
                "type": "service",
                "lifecycle": "production",
                "owner": f"group:default/{ORG}",
                "dependsOn": ["component:default/does-not-exist"],
            },
        },
    ),
    (
        "an entity whose name Backstage would refuse",
        {
            "apiVersion": API_VERSION,
            "kind": "Resource",
            "metadata": {"name": "Invalid name!"},
            "spec": {"type": "database", "owner": f"group:default/{ORG}"},
        },
    ),
    (
        "a dependsOn without a kind",
        {
            "apiVersion": API_VERSION,
            "kind": "Component",
            "metadata": {"name": "invalid-untyped"},
            "spec": {
                "type": "service",
                "lifecycle": "production",
                "owner": f"group:default/{ORG}",
                "dependsOn": ["some-service"],
            },
        },
    ),
)


def invalid_docs(k: int) -> list[dict[str, Any]]:
    """k documents the reader must reject, cycling through INVALID (names made unique so
    that each one is rejected for its own reason, not as a duplicate)."""
    out = []
    for i in range(k):
        doc = json.loads(json.dumps(INVALID[i % len(INVALID)][1]))
        if i >= len(INVALID):
            doc["metadata"]["name"] += f"-{i // len(INVALID) + 1}"
            deps = doc["spec"].get("dependsOn")
            if deps and deps[0].startswith("component:"):
                doc["spec"]["dependsOn"] = [f"{deps[0]}-{i}"]
        out.append(doc)
    return out


def generate(
    out: Path, entities: int, seed: int = 7, change_fraction: float = 0.0, invalid: int = 0
) -> dict[str, int]:
    """Write a catalog of exactly ``entities`` valid entities under ``out``; returns the
    count per kind (plus `invalid` and `changed`). Same arguments, same bytes."""
    counts = plan(entities)
    rng = random.Random(seed)
    names = Names()
    cat = Catalog()
    for key in list(DOMAINS)[: counts["domain"]]:
        ns = DOMAINS[key].namespace
        names.claim("domain", ns, key)
        dom = Ent("domain", key, ns, key, f"domains/{key}.yaml")
        dom.meta = {"title": cap(key), "description": DOMAINS[key].blurb}
        cat.domains[key] = dom
    build_org(rng, cat, names, counts["group"], counts["user"])
    build_domains(rng, cat, names, counts)
    wire(rng, cat)
    changed = change(cat, seed, change_fraction, entities) if change_fraction else 0
    write(
        out,
        cat,
        f"# Generated by bench/catalog_gen.py (seed {seed}, {entities} entities).",
        invalid,
    )
    return {**counts, "invalid": invalid, "changed": changed}


def write(out: Path, cat: Catalog, header: str, invalid: int) -> None:
    files: dict[str, list[dict[str, Any]]] = {
        "org/groups.yaml": [g.doc() for g in cat.groups],
        "org/users.yaml": [u.doc() for u in cat.users],
        **{f"domains/{k}.yaml": [e.doc() for e in cat.by_domain(k)] for k in cat.domains},
    }
    if invalid:
        files["invalid.yaml"] = invalid_docs(invalid)
    root = {
        "apiVersion": API_VERSION,
        "kind": "Location",
        "metadata": {
            "name": f"{ORG}-catalog",
            "description": "Every team's catalog files, registered by the platform team.",
        },
        "spec": {"type": "file", "targets": [f"./{f}" for f in files]},
    }
    for rel, docs in {"catalog-info.yaml": [root], **files}.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(docs, header))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "out",
        type=Path,
        nargs="?",
        help="Directory to write (created; files overwritten). Without it the "
        "catalog goes to a temporary directory: a timing run, which is "
        "also what `baton bench` does with every bench/*.py.",
    )
    ap.add_argument("--entities", type=int, default=50_000, help="Valid entities in all.")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--change-fraction",
        type=float,
        default=0.0,
        help="Rewrite the descriptions of this fraction of the catalog (components and APIs only).",
    )
    ap.add_argument("--invalid", type=int, default=0, help="Invalid documents to append.")
    ap.add_argument("--json", action="store_true", help="A table, then the JSON line.")
    ap.add_argument("--quick", action="store_true", help="2,000 entities (smoke run).")
    args = ap.parse_args()
    entities = 2_000 if args.quick else args.entities
    with tempfile.TemporaryDirectory(prefix="catalog-gen-") as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        counts = generate(out, entities, args.seed, args.change_fraction, args.invalid)
        took = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in out.rglob("*.yaml"))
    metrics = {
        "entities": entities,
        "seed": args.seed,
        **counts,
        "generate_s": round(took, 3),
        "catalog_bytes": size,
    }
    if not args.json:
        print(json.dumps(metrics))
        return
    from _common import report  # only as a script: bench/ is then on sys.path

    rows = [(k, f"{v:,}") for k, v in metrics.items() if k != "generate_s"]
    report("Generating a Backstage catalog", [*rows, ("generate, s", took)], metrics, True)


if __name__ == "__main__":
    main()
