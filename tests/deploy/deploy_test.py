#!/usr/bin/python3
"""deploy/ agrees with the code it deploys.

No Docker engine or Kubernetes cluster runs in the test environment, so
this checks what can be checked without one:
  - every YAML file parses; the kustomization's resources exist;
  - every flag given to the broker, to slussctl or to slussen-web is one
    the binary has, every environment variable given to the broker is one
    it reads; slussen-web itself parses the flags, SLUSSEN_WEB_ variables
    and users file compose and Kubernetes give it (web_dry_run);
  - ports agree: Services' target ports are container ports, the broker's
    --listen port is its container port, the probes ask the --admin_listen
    port (on loopback, as the broker requires), the gateway's --listen port
    is its container port and its probes' (/healthz, /readyz), its Service
    reaches it (directly or through the proxy beside it), its --brokers and
    --redis name Services and their ports, compose publishes on loopback
    only; the TLS, users file, static and catalogue paths are where the
    volumes and the image put them; the network policies let the broker
    and the gateway reach Redis and the gateway reach the broker;
  - the Dockerfile copies files that exist (and not the development users
    file into an image), builds every binary an image ships, its build
    stage installs the -dev package of every pkg-config module CMake asks
    for, and each image stage installs the Debian package of every shared
    library the binaries it ships link; compose and Kubernetes run each
    binary from an image that has it;
  - Redis starts with deploy/redis/slussen.conf and the arguments compose
    and Kubernetes give it (the port moved to a Unix socket), and wants the
    password;
  - `kubectl kustomize` renders deploy/kubernetes (when kubectl is here).

  - the systemd units run binaries with flags they have, and the provider
    agent's example environment file names flags it has.

Usage: deploy_test.py REPO_ROOT SLUSSEN_BINARY SLUSSCTL_BINARY WEB_BINARY
                      AGENT_BINARY
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT, SLUSSEN, SLUSSCTL, WEB, AGENT = sys.argv[1:6]
DEPLOY = os.path.join(ROOT, "deploy")
# The binaries by the name the Dockerfile builds them under.
BINARIES = {os.path.basename(b): b for b in (SLUSSEN, SLUSSCTL, WEB)}
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def load_all(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def flags_of(text):
    """The --names a --help text documents."""
    return set(re.findall(r"--([a-z_]+)", text))


def help_text(binary, flag):
    run = subprocess.run([binary, flag], capture_output=True, text=True)
    return run.stdout + run.stderr


broker_flags = flags_of(help_text(SLUSSEN, "--helpfull"))
ctl_help = help_text(SLUSSCTL, "--help")
ctl_flags = flags_of(ctl_help)
web_help = help_text(WEB, "--helpfull")
web_flags = flags_of(web_help)
check("listen" in broker_flags and "server" in ctl_flags and
      "brokers" in web_flags, "cannot read the binaries' flags")


def check_flags(args, known, where):
    for arg in args:
        m = re.match(r"--([a-z_]+)", arg)
        if m:
            check(m.group(1) in known, f"{where}: unknown flag {arg}")


def flag_value(args, name):
    for arg in args:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def slussctl_args(command):
    """The arguments of the slussctl call in a command (a list, maybe a
    shell line)."""
    words = []
    for part in command:
        words.extend(shlex.split(part) if " " in part else [part])
    if "slussctl" not in words:
        return None
    return words[words.index("slussctl") + 1:]


def check_slussctl(command, where):
    args = slussctl_args(command)
    check(args is not None, f"{where}: no slussctl call")
    if args is None:
        return
    check_flags(args, ctl_flags, where)
    subcommand = [a for a in args if not a.startswith("--")]
    check(subcommand and re.search(rf"\b{subcommand[0]}\b", ctl_help),
          f"{where}: slussctl has no command {subcommand[:1]}")


broker_sources = "".join(
    open(p).read() for p in glob.glob(os.path.join(ROOT, "broker", "**",
                                                   "*.cc"), recursive=True))


def check_env(names, where):
    for name in names:
        check(f'"{name}"' in broker_sources,
              f"{where}: the broker reads no environment variable {name}")


# --- slussen-web ----------------------------------------------------------
# The variables it reads: SLUSSEN_WEB_<FLAG>, and those its help names
# (SLUSSEN_WEB_REDIS_PASSWORD). web_dry_run asks the binary for certain.
web_env = ({f"SLUSSEN_WEB_{flag.upper()}" for flag in web_flags} |
           set(re.findall(r"SLUSSEN_WEB_[A-Z_]+", web_help)))


def check_web_env(names, where):
    for name in names:
        check(name in web_env,
              f"{where}: slussen-web reads no environment variable {name}"
              + (" (it reads only SLUSSEN_WEB_ ones)"
                 if not name.startswith("SLUSSEN_WEB_") else ""))


def web_dry_run(args, env, files, where):
    """Starts slussen-web with the flags and environment a deployment gives
    it, and stops it before it serves: a last --shutdown_grace_seconds=0 is
    refused (web_main.cc) only after every SLUSSEN_WEB_ variable and flag is
    parsed, --log_level and --sign_in are checked and the users file is
    read by the broker's rules, so that refusal, and no other, means those
    are right. `files` maps paths in the container to files here; a value
    that comes from a secret is "1" (a number, a true, a string)."""
    local = []
    for arg in args:
        name, _, value = arg.partition("=")
        local.append(f"{name}={files[value]}" if value in files else arg)
    run = subprocess.run(
        [WEB, *local, "--shutdown_grace_seconds=0"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True, text=True, timeout=30)
    output = run.stdout + run.stderr
    problems = [line for line in output.splitlines()
                if line.strip() and "shutdown_grace_seconds" not in line]
    check("bad --shutdown_grace_seconds" in output and not problems,
          f"{where}: slussen-web refuses what it is given: "
          f"{' | '.join(problems)[:400] or output[:400]}")


def host_port(address):
    host, _, port = address.rpartition(":")
    return host, int(port) if port.isdigit() else None


LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

# --- Dockerfile (read) ----------------------------------------------------
dockerfile = open(os.path.join(DEPLOY, "container", "Dockerfile")).read()
# One instruction a line: continuation lines joined.
instructions = re.sub(r"\\\n", " ", dockerfile)
stages = {}
for text in re.split(r"^FROM ", instructions, flags=re.M)[1:]:
    m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.I)
    copies = []
    for line in re.findall(r"^COPY (.*)$", text, flags=re.M):
        words = line.split()
        source_stage = None
        while words and words[0].startswith("--"):
            if words[0].startswith("--from="):
                source_stage = words[0].split("=", 1)[1]
            words = words[1:]
        copies.append((source_stage, words[:-1], words[-1]))
    installs = set()
    for m_install in re.finditer(r"apt-get install ([^&]*)", text):
        installs.update(w for w in m_install.group(1).split()
                        if not w.startswith("-"))
    stages[m.group(2) or m.group(1)] = {"base": m.group(1), "text": text,
                                        "copies": copies,
                                        "installs": installs}
built_from = {source for stage in stages.values()
              for source, _, _ in stage["copies"] if source}


def installed_in(name):
    """The packages a stage installs, with those of the stage it is FROM."""
    stage = stages.get(name)
    if stage is None:
        return set()
    return stage["installs"] | installed_in(stage["base"])


def shipped_binaries(name):
    """The binaries (by name) a stage copies out of the build, with those
    of the stage it is FROM."""
    stage = stages.get(name)
    if stage is None:
        return set()
    return ({os.path.basename(path) for source, paths, _ in stage["copies"]
             if source for path in paths} | shipped_binaries(stage["base"]))


def copied_to(name, source_path):
    """Where a stage (or the stage it is FROM) copies `source_path` of the
    repository, or None."""
    stage = stages.get(name)
    if stage is None:
        return None
    for source, paths, destination in stage["copies"]:
        if source is None and source_path in (p.rstrip("/") for p in paths):
            return destination
    return copied_to(stage["base"], source_path)


# The images the Dockerfile's header builds: `--target STAGE -t IMAGE`.
image_stage = dict((image, stage) for stage, image in re.findall(
    r"--target (\S+) -t (\S+)", dockerfile))


def check_image_runs(image, binary, where):
    stage = image_stage.get(image.split(":")[0])
    check(stage in stages, f"{where}: the Dockerfile builds no image {image}")
    check(stage not in stages or binary in shipped_binaries(stage),
          f"{where}: image {image} (stage {stage}) has no {binary}")


def check_static_dir(image, static_dir, where):
    stage = image_stage.get(image.split(":")[0])
    shipped = copied_to(stage, "clients/web/static")
    check(shipped is not None and static_dir is not None and
          shipped.rstrip("/") == static_dir.rstrip("/"),
          f"{where}: --static_dir {static_dir} is not where image {image} "
          f"has clients/web/static ({shipped})")


# --- Kubernetes -----------------------------------------------------------
k8s = os.path.join(DEPLOY, "kubernetes")
kustomization = load_all(os.path.join(k8s, "kustomization.yaml"))[0]
objects = []
for resource in kustomization["resources"]:
    path = os.path.join(k8s, resource)
    check(os.path.exists(path), f"kustomization: {resource} is missing")
    if os.path.exists(path):
        objects.extend(load_all(path))
by_kind = {}
for obj in objects:
    by_kind.setdefault(obj["kind"], []).append(obj)
# ConfigMaps kustomize generates: name -> {key: file here}.
generated = {}
for generator in kustomization.get("configMapGenerator", []):
    files = {}
    for entry in generator.get("files", []):
        key, _, path = entry.rpartition("=")
        files[key or os.path.basename(path)] = os.path.join(k8s, path)
        check(os.path.exists(os.path.join(k8s, path)),
              f"kustomization: configMapGenerator file {path} is missing")
    generated[generator["name"]] = files


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def labels_of(obj):
    return obj["spec"]["template"]["metadata"].get("labels", {})


def selects(selector, labels):
    return all(labels.get(k) == v
               for k, v in selector.get("matchLabels", {}).items())


def container_port(workload, port):
    """A container port of a workload's pods, by name or number."""
    for c in pod_spec(workload)["containers"]:
        for p in c.get("ports", []):
            if port in (p.get("name"), p["containerPort"]):
                return p["containerPort"]
    return None


def admits(target, source, port):
    """Whether the network policies let pods of workload `source` (None: a
    client from outside the namespace, as an ingress controller is) connect
    to `port` of workload `target`'s pods."""
    policies = [p for p in by_kind.get("NetworkPolicy", [])
                if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
                and selects(p["spec"]["podSelector"], labels_of(target))]
    if not policies:
        return True
    def matches(peer):
        if source is None:
            return "namespaceSelector" in peer or "ipBlock" in peer
        return ("podSelector" in peer and "namespaceSelector" not in peer
                and selects(peer["podSelector"], labels_of(source)))

    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            sources = rule.get("from")
            if sources and not any(matches(peer) for peer in sources):
                continue
            ports = rule.get("ports")
            if ports and not any(container_port(target, p.get("port")) ==
                                 port for p in ports):
                continue
            return True
    return False


workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])
broker = next(w for w in by_kind["Deployment"] if w["metadata"]["name"] ==
              "slussen")
container = pod_spec(broker)["containers"][0]
args = container["args"]
check_flags(args, broker_flags, "broker.yaml")
check_env([e["name"] for e in container.get("env", [])], "broker.yaml")
check_image_runs(container["image"], "slussen", "broker.yaml")
check_image_runs(container["image"], "slussctl", "broker.yaml probes")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
listen = flag_value(args, "listen")
check(listen is not None and int(listen.rsplit(":", 1)[1]) == ports["grpc"],
      f"broker.yaml: --listen {listen} is not the grpc container port")
admin = flag_value(args, "admin_listen")
check(admin is not None and admin.startswith("127.0.0.1:"),
      f"broker.yaml: --admin_listen {admin} must be on loopback")
for probe in ("readinessProbe", "livenessProbe"):
    command = container[probe]["exec"]["command"]
    check_slussctl(command, f"broker.yaml {probe}")
    check(flag_value(slussctl_args(command) or [], "server") == admin,
          f"broker.yaml {probe}: does not ask --admin_listen {admin}")
mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
for name in ("tls_cert_file", "tls_key_file", "tls_client_ca_file"):
    path = flag_value(args, name)
    check(path is not None and os.path.dirname(path) in mounts,
          f"broker.yaml: --{name} {path} is not on a mounted volume")
grace = int(flag_value(args, "shutdown_grace_seconds") or 10)
check(pod_spec(broker)["terminationGracePeriodSeconds"] > grace,
      "broker.yaml: the pod's grace is not longer than the broker's")

job = by_kind["Job"][0]
job_container = pod_spec(job)["containers"][0]
job_command = job_container.get("command", []) + job_container.get("args", [])
check_slussctl(job_command, "catalogue-job.yaml")
check_image_runs(job_container["image"], "slussctl", "catalogue-job.yaml")
job_args = slussctl_args(job_command) or []
certs = flag_value(job_args, "certs")
check(certs in {m["mountPath"] for m in job_container["volumeMounts"]},
      f"catalogue-job.yaml: --certs {certs} is not a mounted volume")

services = {s["metadata"]["name"]: s for s in by_kind["Service"]}


def service_workload(name):
    selector = services[name]["spec"]["selector"]
    matches = [w for w in workloads
               if all(labels_of(w).get(k) == v for k, v in selector.items())]
    return matches[0] if len(matches) == 1 else None


for service in services.values():
    selector = service["spec"]["selector"]
    matches = [w for w in workloads
               if all(labels_of(w).get(k) == v for k, v in selector.items())]
    check(len(matches) == 1,
          f"Service {service['metadata']['name']}: selects {len(matches)} "
          "workloads")
    for port in service["spec"]["ports"]:
        names = {p.get("name") for w in matches
                 for c in pod_spec(w)["containers"] for p in c["ports"]}
        check(port["targetPort"] in names,
              f"Service {service['metadata']['name']}: no container port "
              f"{port['targetPort']}")
redis_address = flag_value(args, "redis")
check(redis_address.split(":")[0] in services,
      f"broker.yaml: --redis {redis_address} names no Service")
server = flag_value(job_args, "server")
check(server.split(":")[0] in services,
      f"catalogue-job.yaml: --server {server} names no Service")
redis_set = by_kind["StatefulSet"][0]
redis_container = pod_spec(redis_set)["containers"][0]
redis_args = redis_container["args"]
check(admits(redis_set, broker, 6379),
      "network-policy.yaml: the broker's pods may not reach Redis")
redis_password_ref = next(
    (e["valueFrom"]["secretKeyRef"] for e in redis_container.get("env", [])
     if e["name"] == "REDIS_PASSWORD"), None)

# The web gateway: the Deployment whose container runs slussen-web.
web = next((w for w in by_kind["Deployment"]
            for c in pod_spec(w)["containers"]
            if os.path.basename((c.get("command") or [""])[0]) ==
            "slussen-web"), None)
check(web is not None, "kubernetes: no Deployment runs slussen-web")
if web is not None:
    where = "web.yaml"
    web_pod = pod_spec(web)
    web_container = next(c for c in web_pod["containers"]
                         if os.path.basename(c["command"][0]) ==
                         "slussen-web")
    web_args = web_container.get("command", [])[1:] + web_container["args"]
    check_flags(web_args, web_flags, where)
    web_env_given = web_container.get("env", [])
    check_web_env([e["name"] for e in web_env_given], where)
    check_image_runs(web_container["image"], "slussen-web", where)
    check_static_dir(web_container["image"],
                     flag_value(web_args, "static_dir"), where)
    # Paths on the volumes the container mounts.
    web_mounts = {m["mountPath"]: m["name"]
                  for m in web_container.get("volumeMounts", [])}
    web_volumes = {v["name"]: v for v in web_pod.get("volumes", [])}
    files = {}
    users = flag_value(web_args, "users_file") or ""
    users_volume = web_volumes.get(web_mounts.get(os.path.dirname(users)))
    users_map = (users_volume or {}).get("configMap", {}).get("name")
    users_here = generated.get(users_map, {}).get(os.path.basename(users))
    check(users_here is not None,
          f"{where}: --users_file {users} is not a file of a ConfigMap the "
          "kustomization generates, mounted there")
    if users_here:
        files[users] = users_here
    web_dry_run(web_args,
                {e["name"]: e.get("value", "1") for e in web_env_given},
                files, where)
    sign_in = flag_value(web_args, "sign_in") or "development"
    check(sign_in != "development",
          f"{where}: --sign_in=development lets anyone act as anyone")
    # Ports: --listen is the container's port, the probes ask it.
    web_listen = flag_value(web_args, "listen") or "127.0.0.1:8080"
    listen_port = host_port(web_listen)[1]
    check(listen_port in {p["containerPort"]
                          for p in web_container.get("ports", [])},
          f"{where}: --listen {web_listen} is not a container port")
    for probe, path in (("readinessProbe", "/readyz"),
                        ("livenessProbe", "/healthz")):
        get = web_container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and
              container_port(web, get.get("port")) == listen_port,
              f"{where} {probe}: does not ask {path} on --listen port "
              f"{listen_port}")
    # /readyz waits up to 2 s for each broker (gateway.cc, HandleReady).
    check(web_container.get("readinessProbe", {}).get("timeoutSeconds", 1)
          > 2, f"{where} readinessProbe: timeoutSeconds must be above 2")
    # The Service reaches the gateway: at its port, or at the port of a
    # proxy beside it that forwards to it on loopback (then the gateway
    # trusts that proxy's header from loopback only).
    forwarders = {
        p["containerPort"] for c in web_pod["containers"]
        if c is not web_container
        and any(re.search(rf"//(127\.0\.0\.1|localhost):{listen_port}\b", a)
                for a in c.get("args", []) + c.get("command", []))
        for p in c.get("ports", [])}
    web_services = [n for n in services if service_workload(n) is web]
    check(web_services, f"{where}: no Service selects the gateway")
    for name in web_services:
        for port in services[name]["spec"]["ports"]:
            target = container_port(web, port["targetPort"])
            check(target == listen_port or target in forwarders,
                  f"Service {name}: port {port['targetPort']} is neither the "
                  "gateway's --listen port nor a proxy's that forwards to it")
            check(admits(web, None, target),
                  f"network-policy.yaml: Service {name}'s port "
                  f"{port['targetPort']} is closed to clients")
    if sign_in == "proxy":
        trusted = (flag_value(web_args, "trusted_proxies") or "").split(",")
        check(forwarders and all(t in LOOPBACK for t in trusted),
              f"{where}: --sign_in=proxy trusts {trusted}: in a cluster only "
              "loopback is a stable address, with the proxy in the pod "
              "forwarding to --listen")
    # The brokers and Redis: Services, their ports, reachable.
    for target in (flag_value(web_args, "brokers") or "").split(","):
        host, port = host_port(target)
        check(host in services and port in
              {p["port"] for p in services[host]["spec"]["ports"]},
              f"{where}: --brokers {target} is not a Service's port")
        workload = service_workload(host) if host in services else None
        if workload is not None:
            check(admits(workload, web, container_port(
                workload, services[host]["spec"]["ports"][0]["targetPort"])),
                  f"network-policy.yaml: the gateway may not reach {target}")
    web_redis = flag_value(web_args, "redis") or ""
    check(web_redis.split(":")[0] in services,
          f"{where}: --redis {web_redis} names no Service")
    check(admits(redis_set, web, 6379),
          "network-policy.yaml: the gateway's pods may not reach Redis")
    password = next((e for e in web_env_given
                     if e["name"] == "SLUSSEN_WEB_REDIS_PASSWORD"), None)
    check(password is not None and redis_password_ref is not None and
          password.get("valueFrom", {}).get("secretKeyRef") ==
          redis_password_ref,
          f"{where}: SLUSSEN_WEB_REDIS_PASSWORD is not Redis's password "
          f"({redis_password_ref})")
    # Mutual TLS to brokers that ask for client certificates; such a
    # broker refuses a gateway that acts for an admin (docs/security.md).
    if flag_value(args, "tls_client_ca_file"):
        for name in ("broker_ca_file", "broker_cert_file", "broker_key_file"):
            path = flag_value(web_args, name)
            check(path is not None and os.path.dirname(path) in web_mounts,
                  f"{where}: --{name} {path} is not on a mounted volume (the "
                  "brokers want mutual TLS)")
        lines = (open(users_here).read().splitlines()
                 if users_here and os.path.exists(users_here) else [])
        for number, line in enumerate(lines, 1):
            words = line.split("#")[0].split()
            check(len(words) < 3 or words[2].lower() != "admin",
                  f"{where}: users file line {number}: the brokers refuse a "
                  "gateway acting for an admin")
    web_grace = int(flag_value(web_args, "shutdown_grace_seconds") or 5)
    check(web_pod.get("terminationGracePeriodSeconds", 30) > web_grace,
          f"{where}: the pod's grace is not longer than the gateway's")

# Every Deployment of more than one replica has a disruption budget.
for workload in by_kind.get("Deployment", []):
    if workload["spec"].get("replicas", 1) > 1:
        check(any(selects(b["spec"]["selector"], labels_of(workload))
                  for b in by_kind.get("PodDisruptionBudget", [])),
              f"Deployment {workload['metadata']['name']}: no "
              "PodDisruptionBudget")

kubectl = shutil.which("kubectl")
if kubectl:
    render = subprocess.run([kubectl, "kustomize", k8s], capture_output=True,
                            text=True, timeout=60)
    check(render.returncode == 0,
          f"kubectl kustomize deploy/kubernetes: {render.stderr[:400]}")
else:
    print("deploy_test: no kubectl here; the kustomization was not rendered")

# --- Compose --------------------------------------------------------------
compose = load_all(os.path.join(DEPLOY, "compose.yaml"))[0]
svc = compose["services"]
check_flags(svc["broker"]["command"], broker_flags, "compose.yaml broker")
check_env(svc["broker"]["environment"].keys(), "compose.yaml broker")
check(flag_value(svc["broker"]["command"], "redis").split(":")[0] in svc,
      "compose.yaml: the broker's --redis names no service")
check_slussctl(svc["broker"]["healthcheck"]["test"][1:],
               "compose.yaml healthcheck")
check_slussctl(svc["catalogue"]["command"], "compose.yaml catalogue")
compose_redis_args = [re.sub(r"\$\{[^}]*\}", "secret", a)
                      for a in svc["redis"]["command"]]
# The images compose builds are the Dockerfile's.
for name, service in svc.items():
    if "build" in service:
        check(image_stage.get(service.get("image")) ==
              service["build"].get("target"),
              f"compose.yaml {name}: image {service.get('image')} is not "
              "the Dockerfile's of that target")


def published(service):
    """(host address, host port, container port) of each published port."""
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        yield (parts[0] if len(parts) == 3 else "",
               parts[-2] if len(parts) > 1 else "", int(parts[-1]))


for name, service in svc.items():
    for address, _, _ in published(service):
        check(address in LOOPBACK,
              f"compose.yaml {name}: a port is published beyond loopback")
broker_port = host_port(flag_value(svc["broker"]["command"], "listen"))[1]
check(broker_port in {p for _, _, p in published(svc["broker"])},
      "compose.yaml broker: --listen is not the published port")


def variable_of(value):
    m = re.search(r"\$\{(\w+)", str(value))
    return m.group(1) if m else None


web_services = [n for n, s in svc.items()
                if os.path.basename((s.get("entrypoint") or [""])[0]) ==
                "slussen-web"]
check(len(web_services) == 1, "compose.yaml: no service runs slussen-web")
for name in web_services:
    where = f"compose.yaml {name}"
    service = svc[name]
    web_args = service["entrypoint"][1:] + service.get("command", [])
    check_flags(web_args, web_flags, where)
    environment = service.get("environment", {})
    check_web_env(environment.keys(), where)
    check_image_runs(service["image"], "slussen-web", where)
    check_static_dir(service["image"], flag_value(web_args, "static_dir"),
                     where)
    files = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith((".", "/")):
            here = os.path.normpath(os.path.join(DEPLOY, source))
            check(os.path.exists(here), f"{where}: no {source} to mount")
            files[target] = here
    users = flag_value(web_args, "users_file")
    check(users is None or users in files,
          f"{where}: --users_file {users} is not a mounted file")
    web_dry_run(web_args,
                {k: re.sub(r"\$\{[^}]*\}", "1", str(v))
                 for k, v in environment.items()}, files, where)
    web_listen = flag_value(web_args, "listen") or "127.0.0.1:8080"
    listen_host, listen_port = host_port(web_listen)
    check(listen_port in {p for _, _, p in published(service)},
          f"{where}: --listen {web_listen} is not the published port")
    # What the gateway refuses at start, after the dry run stops.
    check((flag_value(web_args, "sign_in") or "development") != "development"
          or listen_host in LOOPBACK or "--insecure_allow_remote" in web_args,
          f"{where}: development sign-in on {listen_host} needs "
          "--insecure_allow_remote")
    for target in (flag_value(web_args, "brokers") or "").split(","):
        host, port = host_port(target)
        check(host in svc and host_port(
            flag_value(svc[host].get("command", []), "listen") or ":0")[1]
            == port, f"{where}: --brokers {target} is not a broker service")
    check((flag_value(web_args, "redis") or "").split(":")[0] in svc,
          f"{where}: --redis names no service")
    requirepass = svc["redis"]["command"][
        svc["redis"]["command"].index("--requirepass") + 1]
    check(variable_of(environment.get("SLUSSEN_WEB_REDIS_PASSWORD")) ==
          variable_of(requirepass),
          f"{where}: SLUSSEN_WEB_REDIS_PASSWORD is not Redis's password")

# --- Dockerfile -----------------------------------------------------------
for stage in stages.values():
    for source, paths, _ in stage["copies"]:
        for path in paths if source is None else []:
            check(os.path.exists(os.path.join(ROOT, path)),
                  f"Dockerfile: COPY {path}: no such file")
check(copied_to(image_stage.get("slussen"), "providers/catalog") ==
      "/usr/share/slussen/catalog" and
      "/usr/share/slussen/catalog/" in " ".join(job_args),
      "the catalogue Job does not read where the image puts the catalogue")
# The development users file (anyone may be anyone) is in no image.
DEV_USERS = "clients/web/dev-users.txt"
for name, stage in stages.items():
    if name in built_from:
        continue
    for source, paths, _ in stage["copies"]:
        for path in paths if source is None else []:
            path = os.path.normpath(path)
            check(not (path == "." or DEV_USERS == path or
                       DEV_USERS.startswith(path + "/")),
                  f"Dockerfile: stage {name} ships {DEV_USERS} (COPY {path})")
# The build stage installs the -dev package of every pkg-config module the
# build asks for (the tests' CMake files are not built there).
build_stage = next(iter(built_from), None)
modules = set()
cmake_files = set()
for source, paths, _ in stages.get(build_stage, {}).get("copies", []):
    for path in paths if source is None else []:
        here = os.path.join(ROOT, path)
        cmake_files.update(
            glob.glob(os.path.join(here, "**", "CMakeLists.txt"),
                      recursive=True) if os.path.isdir(here) else
            [here] if path.endswith("CMakeLists.txt") else [])
for cmake in sorted(cmake_files):
    text = open(cmake).read()
    for call in re.findall(r"pkg_check_modules\(([^)]*)\)", text):
        words = call.split()[1:]
        modules.update(re.split(r"[<>=]", w)[0] for w in words
                       if not w.isupper())
for module in sorted(modules):
    pcdir = subprocess.run(["pkg-config", "--variable=pcfiledir", module],
                           capture_output=True, text=True).stdout.strip()
    owner = subprocess.run(["dpkg", "-S", os.path.join(pcdir, module + ".pc")],
                           capture_output=True, text=True).stdout
    package = owner.split(":")[0] if ":" in owner else None
    check(package is not None, f"cannot find the package of {module}.pc")
    check(package is None or package in installed_in(build_stage),
          f"Dockerfile: the build stage does not install {package} "
          f"(pkg_check_modules {module})")
# It builds every binary an image copies out of it.
targets = set()
for m in re.finditer(r"cmake --build \S+ --target ([^&\n]*)",
                     stages.get(build_stage, {}).get("text", "")):
    targets.update(m.group(1).split())
# Each image stage installs the package of every library its binaries link.
base = {"libc6", "libgcc-s1", "libstdc++6"}  # in debian:bookworm-slim
shipped_anywhere = set()
for name in stages:
    if name in built_from:
        continue
    binaries = shipped_binaries(name)
    shipped_anywhere |= binaries
    for binary in sorted(binaries):
        check(binary in targets,
              f"Dockerfile: stage {name} copies {binary}, which the build "
              "stage does not build")
        if binary not in BINARIES:
            continue
        libraries = set()
        for lib in re.findall(r"=> (\S+)", subprocess.run(
                ["ldd", BINARIES[binary]], capture_output=True,
                text=True).stdout):
            # dpkg knows a file by the path its package installed (/lib or
            # /usr/lib on a merged /usr): ask for both, once.
            libraries.update({lib, os.path.realpath(lib)})
        owners = subprocess.run(["dpkg", "-S", *sorted(libraries)],
                                capture_output=True, text=True).stdout
        linked = {line.split(":")[0] for line in owners.splitlines()
                  if ":" in line}
        check(linked, f"could not find the library packages of {binary}")
        for package in sorted(linked - base - installed_in(name)):
            failures.append(f"Dockerfile: stage {name} does not install "
                            f"{package} ({binary} links it)")
for binary in BINARIES:
    check(binary in shipped_anywhere, f"Dockerfile: no image ships {binary}")

# --- Redis with its arguments ---------------------------------------------
redis_server = shutil.which("redis-server")
redis_cli = shutil.which("redis-cli")
check(redis_server and redis_cli, "redis-server and redis-cli are needed")
for where, extra in (("kubernetes", redis_args),
                     ("compose", compose_redis_args)):
    extra = [a.replace("$(REDIS_PASSWORD)", "secret") for a in extra]
    # TCP off (the port may be taken here): a Unix socket instead.
    extra = ["0" if prev == "--port" else a
             for prev, a in zip([""] + extra, extra)]
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "redis.sock")
        server = subprocess.Popen(
            [redis_server, os.path.join(DEPLOY, "redis", "slussen.conf"),
             "--dir", tmp, "--unixsocket", sock, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(100):
            if os.path.exists(sock) or server.poll() is not None:
                break
            time.sleep(0.05)
        ask = lambda *a: subprocess.run([redis_cli, "-s", sock, *a],
                                        capture_output=True, text=True)
        unauthenticated = ask("PING").stdout
        authenticated = ask("-a", "secret", "--no-auth-warning", "PING").stdout
        check("NOAUTH" in unauthenticated,
              f"redis ({where}): answers without its password")
        check(authenticated.strip() == "PONG",
              f"redis ({where}) did not start with its arguments: "
              f"{authenticated}{server.stdout.read() if server.poll() else ''}")
        server.terminate()
        server.wait(timeout=10)

# systemd: every unit's ExecStart runs a binary with flags it has; the
# agent's example environment names its flags. (tests/deploy/systemd_test.sh
# installs the units and has systemd check them.)
agent_flags = flags_of(help_text(AGENT, "--help"))
unit_flags = {"slussen": broker_flags, "slussen-web": web_flags,
              "slussen-provider-agent": agent_flags}
units = glob.glob(os.path.join(DEPLOY, "systemd", "*.service"))
check(len(units) >= 2, "deploy/systemd has no units")
for unit in units:
    text = open(unit).read().replace("\\\n", " ")
    m = re.search(r"^ExecStart=(\S+)(.*)$", text, flags=re.M)
    check(m is not None, f"{unit}: no ExecStart")
    if not m:
        continue
    binary = os.path.basename(m.group(1))
    if binary == "redis-server":
        continue  # run with its arguments by tests/deploy/systemd_test.sh
    check(binary in unit_flags, f"{unit}: runs {binary}, which is no binary of ours")
    check_flags(shlex.split(m.group(2)), unit_flags.get(binary, set()), unit)
for line in open(os.path.join(DEPLOY, "systemd", "provider-agent.env.example")):
    m = re.match(r"SLUSSEN_AGENT_([A-Z_]+)=", line)
    if m:
        check(m.group(1).lower() in agent_flags,
              f"provider-agent.env.example: no flag --{m.group(1).lower()}")

for failure in failures:
    print("deploy_test:", failure)
print(f"deploy_test: {len(failures)} problems")
sys.exit(1 if failures else 0)
