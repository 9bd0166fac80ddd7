"""The agent's Kubernetes manifests and systemd unit (acceptance 1)."""

from __future__ import annotations

import configparser
from typing import Any

import pytest
import yaml

from tests.support.processes import REPO_ROOT

MANIFESTS = REPO_ROOT / "infra" / "kubernetes" / "agent.yaml"
UNIT = REPO_ROOT / "infra" / "systemd" / "tether-agent.service"


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    documents = [doc for doc in yaml.safe_load_all(MANIFESTS.read_text()) if doc]
    by_kind = {doc["kind"]: doc for doc in documents}
    assert len(by_kind) == len(documents), "one object of each kind"
    return by_kind


def test_the_agent_is_a_deployment_with_a_service_account_secret_role_and_policy(
    objects: dict[str, dict[str, Any]],
) -> None:
    assert set(objects) == {"ServiceAccount", "Secret", "Role", "RoleBinding", "Deployment", "NetworkPolicy"}
    namespaces = {doc["metadata"]["namespace"] for doc in objects.values()}
    assert namespaces == {"tether"}
    binding = objects["RoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tether-agent"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "tether-agent", "namespace": "tether"}]


def test_the_role_allows_what_the_kubernetes_infrastructure_does_and_no_more(
    objects: dict[str, dict[str, Any]],
) -> None:
    rules = {
        (group, resource): set(rule["verbs"])
        for rule in objects["Role"]["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert rules == {
        ("batch", "jobs"): {"create", "get", "list", "watch", "delete"},
        ("", "pods"): {"get", "list", "watch", "delete"},
        ("", "pods/log"): {"get"},
        ("", "secrets"): {"create", "delete"},  # the runs' token Secrets: never get or list
    }
    assert objects["Role"]["kind"] == "Role", "namespaced, not a ClusterRole"


def test_the_key_is_in_a_secret_never_inline(objects: dict[str, dict[str, Any]]) -> None:
    secret = objects["Secret"]
    assert all(value == "" for value in secret.get("stringData", {}).values()), "no real value in the manifest"
    assert "data" not in secret
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "tether-agent"}}]
    assert all("value" not in item for item in container.get("env", []))
    assert pod["serviceAccountName"] == "tether-agent"


def test_the_agent_runs_unprivileged_with_a_pinned_image(objects: dict[str, dict[str, Any]]) -> None:
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    [container] = pod["containers"]
    image = container["image"]
    assert ":" in image
    assert image.rpartition(":")[2] not in ("", "latest")
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    assert "ports" not in container, "the agent listens on nothing"
    assert container["resources"]["limits"]


def test_the_network_policy_denies_ingress_and_lets_out_only_dns_and_https(objects: dict[str, dict[str, Any]]) -> None:
    policy = objects["NetworkPolicy"]["spec"]
    assert policy["podSelector"] == objects["Deployment"]["spec"]["selector"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert not policy.get("ingress"), "no ingress rule: nothing may connect to the agent"
    ports = [(p["protocol"], p["port"]) for rule in policy["egress"] for p in rule["ports"]]
    assert set(ports) <= {("UDP", 53), ("TCP", 53), ("TCP", 443), ("TCP", 6443)}
    for rule in policy["egress"]:
        assert rule.get("to"), "every egress rule names its destination"
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert peer["ipBlock"]["cidr"].endswith("/32"), "one address, not a range"
    dns = [rule for rule in policy["egress"] if ("UDP", 53) in [(p["protocol"], p["port"]) for p in rule["ports"]]]
    assert dns
    assert dns[0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}


def test_the_systemd_unit_is_hardened_and_keeps_the_key_out_of_the_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text())
    service = unit["Service"]
    assert service["User"] == "tether"
    assert "tether agent start" in service["ExecStart"]
    assert service["EnvironmentFile"].startswith("/etc/tether/")
    assert "Environment" not in service, "no Environment= line: the key stays in the root-only file"
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[option] == value, option
    assert "AF_INET" in service["RestrictAddressFamilies"]
    assert service["Restart"] == "on-failure"
