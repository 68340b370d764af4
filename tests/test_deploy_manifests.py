"""deploy/ checked offline, with no cluster: Kubernetes objects against the Kubernetes JSON
schemas (kubernetes-validate, strict: unknown fields fail, as `kubectl apply` does), KServe and
Prometheus Operator objects against their published CRD schemas (tests/fixtures/deploy/crds),
the kustomizations rendered by `kubectl kustomize`, every YAML file through yamllint, and the
facts that tie the files together (ports, probes, workers = CPU limit, selectors) asserted."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from service.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
KSERVE = DEPLOY / "kserve"
HAPROXY = DEPLOY / "compose" / "haproxy"
CRDS = Path(__file__).parent / "fixtures" / "deploy" / "crds"
# The oldest Kubernetes these manifests claim (PDB unhealthyPodEvictionPolicy is on by
# default from 1.27; autoscaling/v2 and policy/v1 are older) and the newest schemas known.
K8S_VERSIONS = ("1.27", kubernetes_validate.latest_version())
KUSTOMIZATIONS = [
    K8S,
    K8S / "overlays" / "models-volume",
    K8S / "overlays" / "servicemonitor",
    KSERVE,
]
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), ROOT / "docker-compose.yml"])
Obj = dict[str, Any]


def load(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def render(directory: Path) -> list[Obj]:
    """`kubectl kustomize DIR` (kustomize v5 is built into kubectl); skips where it is missing."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl not found: it renders the kustomizations (kubectl kustomize)")
    done = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def source_objects() -> list[tuple[Path, Obj]]:
    """Every object under deploy/ as written, except kustomize files and patches."""
    patches = {
        (path.parent / patch["path"]).resolve()
        for path in DEPLOY.rglob("kustomization.yaml")
        for patch in load(path)[0].get("patches", [])
    }
    return [
        (path, obj)
        for path in sorted(DEPLOY.rglob("*.yaml"))
        if path.name != "kustomization.yaml" and path.resolve() not in patches
        for obj in load(path)
    ]


def one(objects: list[Obj], kind: str) -> Obj:
    found = [obj for obj in objects if obj["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def strict(schema: Any) -> Any:
    """A CRD's openAPIV3Schema with unknown fields refused where the API server refuses them
    (objects with listed properties that do not preserve unknown fields)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if "properties" in schema:
        out["properties"] = {name: strict(sub) for name, sub in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            out["additionalProperties"] = False
    return out


@cache
def crd_schemas() -> dict[tuple[str, str], Obj]:
    """(apiVersion, kind) -> the JSON schema from the CRDs under tests/fixtures/deploy/crds."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml.gz")):
        crd = yaml.safe_load(gzip.decompress(path.read_bytes()))
        spec = crd["spec"]
        for version in spec["versions"]:
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def is_native(obj: Obj) -> bool:
    return (obj["apiVersion"], obj["kind"]) not in crd_schemas()


def container(objects: list[Obj], kind: str = "Deployment") -> Obj:
    spec = one(objects, kind)["spec"]
    pod = spec["template"]["spec"] if kind == "Deployment" else spec
    containers: list[Obj] = pod["containers"]
    assert len(containers) == 1
    return containers[0]


def env(c: Obj) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in c.get("env", [])}


def cpus(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# --- schemas and lint ---------------------------------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_yamllint(path: Path) -> None:
    config = YamlLintConfig(file=str(DEPLOY / ".yamllint"))
    problems = [f"{p.line}:{p.column} {p.message}" for p in linter.run(path.read_text(), config)]
    assert not problems, problems


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_objects_match_the_schemas(version: str) -> None:
    objects = [(p, o) for p, o in source_objects() if is_native(o)]
    objects += [(d, o) for d in KUSTOMIZATIONS if shutil.which("kubectl") for o in render(d)]
    assert len(objects) > 10
    for where, obj in objects:
        if not is_native(obj):
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{where}: {obj['kind']} {'.'.join(map(str, e.path))}: {e.message}")


def test_custom_resources_match_their_crds() -> None:
    custom = [(p, o) for p, o in source_objects() if not is_native(o)]
    assert {o["kind"] for _, o in custom} == {
        "ServingRuntime",
        "InferenceService",
        "ServiceMonitor",
    }
    for path, obj in custom:
        schema = crd_schemas()[(obj["apiVersion"], obj["kind"])]
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator(schema).iter_errors(obj)
        )
        assert error is None, f"{path}: {'.'.join(map(str, error.path))}: {error.message}"


def test_the_crd_check_refuses_a_misspelt_field() -> None:
    runtime = one(load(KSERVE / "servingruntime.yaml"), "ServingRuntime")
    runtime["spec"]["protocolVersion"] = ["v2"]  # the field is protocolVersions
    schema = crd_schemas()[(runtime["apiVersion"], "ServingRuntime")]
    assert not jsonschema.Draft7Validator(schema).is_valid(runtime)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_kustomizations_render_with_names_and_namespace(directory: Path) -> None:
    objects = render(directory)
    for obj in objects:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", obj["metadata"]["name"]), obj
    if directory != KSERVE:
        namespaced = [o for o in objects if o["kind"] != "Namespace"]
        assert {o["metadata"].get("namespace") for o in namespaced} == {"latentlab"}


# --- the Kubernetes Deployment and its neighbours -------------------------------------------


def test_env_vars_are_real_service_settings() -> None:
    """A misspelt LATENTLAB_* variable is silently ignored by the service: catch it here."""
    known = {f"LATENTLAB_{name.upper()}" for name in Settings.model_fields}
    compose = load(ROOT / "docker-compose.yml")[0]["services"]
    names = {n for s in compose.values() for n in s.get("environment", {})}
    names |= {e["name"] for _, o in source_objects() for c in pod_containers(o) for e in c["env"]}
    unknown = {n for n in names if n.startswith("LATENTLAB_")} - known
    assert not unknown, f"not in service/config.py: {sorted(unknown)}"


def pod_containers(obj: Obj) -> list[Obj]:
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec)
    return [c for c in pod.get("containers", []) if "env" in c]


def test_deployment_runs_non_root_on_a_read_only_root() -> None:
    deployment = one(load(K8S / "base" / "deployment.yaml"), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's user (Dockerfile)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # Writable places are emptyDirs, the metrics folder its own (it must exist at start).
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert mounts["/tmp"] in empty_dirs
    assert mounts[env(c)["PROMETHEUS_MULTIPROC_DIR"]] in empty_dirs
    assert pod["automountServiceAccountToken"] is False
    # Service links would inject LATENTLAB_PORT=tcp://... for a Service named `latentlab`.
    assert pod["enableServiceLinks"] is False


@pytest.mark.parametrize("kind", ["Deployment", "ServingRuntime"])
def test_workers_match_the_cpu_limit(kind: str) -> None:
    path = (
        K8S / "base" / "deployment.yaml" if kind == "Deployment" else KSERVE / "servingruntime.yaml"
    )
    c = container(load(path), kind)
    assert int(env(c)["LATENTLAB_WORKERS"]) == cpus(c["resources"]["limits"]["cpu"])
    assert c["resources"]["requests"] == c["resources"]["limits"]  # Guaranteed QoS


def test_probes_and_graceful_termination() -> None:
    deployment = one(load(K8S / "base" / "deployment.yaml"), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    c = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["http"] == int(env(c)["LATENTLAB_PORT"])
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    startup = c["startupProbe"]
    assert startup["httpGet"]["port"] == "http"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30
    command = c["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep" and 1 <= int(command[1]) <= 10
    drain = float(env(c)["LATENTLAB_GRACEFUL_TIMEOUT_S"])
    assert pod["terminationGracePeriodSeconds"] >= int(command[1]) + drain
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(ports["http"])
    assert annotations["prometheus.io/path"] == "/metrics"


def test_service_hpa_and_pdb_select_the_deployment() -> None:
    objects = render(K8S / "overlays" / "servicemonitor")
    deployment, service = one(objects, "Deployment"), one(objects, "Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selects = lambda selector: selector.items() <= pod_labels.items()  # noqa: E731
    assert selects(service["spec"]["selector"])
    assert selects(deployment["spec"]["selector"]["matchLabels"])
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa, pdb = one(objects, "HorizontalPodAutoscaler"), one(objects, "PodDisruptionBudget")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    assert selects(pdb["spec"]["selector"]["matchLabels"])
    assert pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]
    monitor = one(objects, "ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= {
        p["name"] for p in service["spec"]["ports"]
    }


def test_the_servicemonitor_is_not_in_the_default_kustomization() -> None:
    assert "ServiceMonitor" not in {o["kind"] for o in render(K8S)}


def test_image_is_the_one_compose_builds() -> None:
    compose = load(ROOT / "docker-compose.yml")[0]["services"]
    image, tag = compose["api"]["image"].split(":")
    assert container(load(K8S / "base" / "deployment.yaml"))["image"] == image
    assert load(K8S / "base" / "kustomization.yaml")[0]["images"] == [
        {"name": image, "newTag": tag}
    ]
    assert container(render(K8S))["image"] == f"{image}:{tag}"


def test_models_volume_overlay_mounts_the_claim_over_the_model_dir() -> None:
    objects = render(K8S / "overlays" / "models-volume")
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    c = pod["containers"][0]
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == env(c)["LATENTLAB_MODEL_DIR"])
    assert mount["readOnly"] is True
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    claim = one(objects, "PersistentVolumeClaim")["metadata"]["name"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim
    assert {m["mountPath"] for m in c["volumeMounts"]} >= {"/tmp", "/tmp/metrics"}
    # Live reload, so models copied onto the volume are served without a restart.
    assert "poll_seconds" in Settings.model_fields
    assert float(env(c)["LATENTLAB_POLL_SECONDS"]) > 0


# --- KServe -------------------------------------------------------------------------------


def test_kserve_runtime_and_inference_service_agree() -> None:
    runtime = one(load(KSERVE / "servingruntime.yaml"), "ServingRuntime")
    isvc = one(load(KSERVE / "inferenceservice.yaml"), "InferenceService")
    model = isvc["spec"]["predictor"]["model"]
    assert model["runtime"] == runtime["metadata"]["name"]
    assert model["protocolVersion"] == "v2" and "v2" in runtime["spec"]["protocolVersions"]
    formats = {(f["name"], f.get("version")) for f in runtime["spec"]["supportedModelFormats"]}
    assert (model["modelFormat"]["name"], model["modelFormat"].get("version")) in formats
    c = container([runtime], "ServingRuntime")
    assert c["name"] == "kserve-container"  # the name KServe looks for
    assert [p["containerPort"] for p in c["ports"]] == [int(env(c)["LATENTLAB_PORT"])] == [8080]
    assert runtime["spec"]["annotations"]["prometheus.kserve.io/port"] == "8080"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/tmp", env(c)["PROMETHEUS_MULTIPROC_DIR"]} <= mounts
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"


# --- compose scale-out ----------------------------------------------------------------------


def test_compose_scale_profile_puts_replicas_behind_haproxy() -> None:
    services = load(ROOT / "docker-compose.yml")[0]["services"]
    replica, lb = services["replica"], services["lb"]
    assert replica["profiles"] == lb["profiles"] == ["scale"]
    assert "ports" not in replica and replica["image"] == services["api"]["image"]
    default = re.fullmatch(r"\$\{LATENTLAB_REPLICAS:-(\d+)\}", str(replica["deploy"]["replicas"]))
    assert default and int(default[1]) >= 2
    assert replica["read_only"] is True
    assert set(replica["tmpfs"]) >= {"/tmp", replica["environment"]["PROMETHEUS_MULTIPROC_DIR"]}
    assert lb["depends_on"]["replica"]["condition"] == "service_healthy"
    assert lb["build"]["context"] == str(HAPROXY.relative_to(ROOT))
    assert lb["ports"][0].endswith(":8080")

    dockerfile = (HAPROXY / "Dockerfile").read_text()
    assert re.search(r"^FROM debian:bookworm-slim$", dockerfile, re.M)
    assert "haproxy=" in dockerfile and "bind :8080" in (HAPROXY / "haproxy.cfg").read_text()
    cfg = (HAPROXY / "haproxy.cfg").read_text()
    port = replica["environment"]["LATENTLAB_PORT"]
    assert re.search(rf"^\s+server-template \S+ 1-\d+ replica:{port} check resolvers", cfg, re.M)
    assert re.search(r"^\s+http-check send meth GET uri /readyz$", cfg, re.M)
    retry_on = re.search(r"^\s+retry-on (.+)$", cfg, re.M)
    assert retry_on and {"conn-failure", "empty-response"} <= set(retry_on[1].split())
    assert re.search(r"^\s+option redispatch", cfg, re.M)
    # A replica that refuses a connection is out at once, not after the next two checks.
    assert re.search(r"^\s+default-server .*observe layer4 .*on-error mark-down", cfg, re.M)
