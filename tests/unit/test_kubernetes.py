"""Reading Kubernetes manifests (tests/fixtures/kubernetes, written for these tests, for the
components of tests/fixtures/backstage): workloads PART_OF the component their label names,
Services DEPENDS_ON the workloads they select in their namespace, Ingresses DEPENDS_ON their
Services; other kinds skipped, dangling targets reported without losing the entity, and
every broken document rejected with its file and line while its neighbours are kept."""

from __future__ import annotations

import json
from pathlib import Path

from app.connectors import kubernetes

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "kubernetes"
COMPONENTS = {
    "payments-api": "component:default/payments-api",
    "ledger": "component:default/ledger",
    "checkout-api": "component:default/checkout-api",
}


def test_manifests_become_workloads_services_and_ingresses_with_their_relations() -> None:
    snap = kubernetes.read(FOLDER, components=COMPONENTS)
    assert snap.files == [
        "ops/monitoring.yml",
        "payments/ingress.yaml",
        "payments/ledger.yaml",
        "payments/payments-api.yaml",
        "storefront/broken.yaml",
        "storefront/checkout.json",
    ]
    rels = {i: sorted(r.relations) for i, r in snap.records.items()}
    assert rels == {
        "daemonset:monitoring/node-exporter": [],
        "service:default/node-exporter": [],  # its selector matches only in another namespace
        "ingress:payments/payments": [
            ("DEPENDS_ON", "service:payments/ledger"),
            ("DEPENDS_ON", "service:payments/payments-api"),
        ],
        "deployment:payments/ledger": [("PART_OF", "component:default/ledger")],  # pod label
        "service:payments/ledger": [("DEPENDS_ON", "deployment:payments/ledger")],
        "statefulset:payments/ledger-db": [],
        "service:payments/ledger-db": [("DEPENDS_ON", "statefulset:payments/ledger-db")],
        "deployment:payments/payments-api": [("PART_OF", "component:default/payments-api")],
        "service:payments/payments-api": [("DEPENDS_ON", "deployment:payments/payments-api")],
        "service:default/orphan": [],
        "deployment:default/worker": [],
        "deployment:storefront/checkout-api": [("PART_OF", "component:default/checkout-api")],
        "service:storefront/checkout-api": [("DEPENDS_ON", "deployment:storefront/checkout-api")],
    }
    api = snap.records["deployment:payments/payments-api"]
    assert (api.kind, api.name, api.namespace, api.file, api.line, api.domain) == (
        "deployment",
        "payments-api",
        "payments",
        "payments/payments-api.yaml",
        2,
        None,
    )
    assert api.attrs == {
        "labels": {
            "app": "payments-api",
            "app.kubernetes.io/part-of": "payments",
            "backstage.io/kubernetes-id": "payments-api",
        },
        "images": [
            "registry.acme.example/payments/payments-api:2.14.1",
            "envoyproxy/envoy:v1.30.1",
        ],
        "ports": [8080, 9901],
        "replicas": 3,
    }
    svc = snap.records["service:payments/payments-api"]
    assert svc.attrs["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    ing = snap.records["ingress:payments/payments"].attrs
    assert ing["hosts"] == ["api.pay.acme.example", "pay.acme.example"]
    assert ing["className"] == "nginx"
    assert "replicas" not in snap.records["daemonset:monitoring/node-exporter"].attrs
    assert snap.records["statefulset:payments/ledger-db"].kind == "statefulset"
    # a List's items keep their own lines (in JSON too)
    assert snap.records["deployment:storefront/checkout-api"].line == 5
    assert snap.records["service:storefront/checkout-api"].line == 22
    json.dumps([r.attrs for r in snap.records.values()])  # the graph can store them
    assert [str(r) for r in snap.rejected] == [
        "storefront/broken.yaml:13: not readable YAML: mapping values are not allowed here",
        "storefront/broken.yaml:15: Deployment has no metadata.name",
        "storefront/broken.yaml:30: deployment:payments/payments-api already defined at "
        "payments/payments-api.yaml:2",
        "storefront/broken.yaml:37: not a Kubernetes object (apiVersion, kind, metadata)",
        "storefront/broken.yaml:40: Service 'Not_Valid' in namespace 'default': not a valid name",
    ]
    assert [str(s) for s in snap.skipped] == [
        "ops/monitoring.yml:1: daemonset:monitoring/node-exporter: "
        "backstage.io/kubernetes-id=node-exporter names no known component",
        "payments/ingress.yaml:30: extensions/v1beta1 Ingress payments-legacy skipped",
        "payments/payments-api.yaml:39: v1 ConfigMap payments-api-config skipped",
        "ops/monitoring.yml:20: service:default/node-exporter: selects no workload in the "
        "manifests",
        "payments/ingress.yaml:1: ingress:payments/payments: backend "
        "service:payments/payments-web is not in the manifests",
        "storefront/broken.yaml:2: service:default/orphan: selects no workload in the manifests",
    ]


def test_a_selector_limits_which_workloads_join_their_component() -> None:
    snap = kubernetes.read(
        FOLDER, components=COMPONENTS, selector={"app.kubernetes.io/part-of": "payments"}
    )
    part_of = {i: r.relations for i, r in snap.records.items() if r.kind == "deployment"}
    assert part_of == {
        "deployment:payments/ledger": [("PART_OF", "component:default/ledger")],
        "deployment:payments/payments-api": [("PART_OF", "component:default/payments-api")],
        "deployment:default/worker": [],
        "deployment:storefront/checkout-api": [],  # not labelled part-of payments
    }
    other = kubernetes.read(
        FOLDER,
        components={"payments": "component:default/payments-api"},
        label="app.kubernetes.io/part-of",
    )
    assert [
        i
        for i, r in other.records.items()
        if r.relations == [("PART_OF", "component:default/payments-api")]
    ] == ["deployment:payments/ledger", "deployment:payments/payments-api"]


def test_symlinks_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: secret}\n")
    folder = tmp_path / "manifests"
    (folder / "apps").mkdir(parents=True)
    (folder / "apps" / "web.yml").write_text(
        "---\napiVersion: v1\nkind: List\nitems:\n"
        "  - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: Shop}}\n"
        "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n"
    )
    (folder / "leak.yaml").symlink_to(outside)
    (folder / "linked").symlink_to(tmp_path)
    (folder / "notes.txt").write_text("not a manifest")
    snap = kubernetes.read(folder, components={})
    assert snap.files == ["apps/web.yml"]
    assert [(r.id, r.line) for r in snap.records.values()] == [
        ("service:shop/web", 5),
        ("deployment:default/web", 6),
    ]
    assert [(r.file, r.line, r.reason) for r in snap.rejected] == [
        ("leak.yaml", 0, f"symlink to {outside} leads out of the folder: refused"),
        ("linked", 0, f"symlink to {tmp_path} leads out of the folder: refused"),
    ]
