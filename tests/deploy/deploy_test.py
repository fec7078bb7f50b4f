#!/usr/bin/python3
"""deploy/ agrees with the code it deploys.

No Docker engine or Kubernetes cluster runs in the test environment, so
this checks what can be checked without one:
  - every YAML file parses; the kustomization's resources exist;
  - every flag given to the broker or to slussctl is one the binary has,
    every environment variable given to the broker is one it reads;
  - ports agree: Services' target ports are container ports, the broker's
    --listen port is its container port, the probes ask the --admin_listen
    port (on loopback, as the broker requires), the TLS and catalogue paths
    are where the volumes and the image put them;
  - the Dockerfile copies files that exist, and its broker stage installs
    the Debian package of every shared library the built binaries link;
  - Redis starts with deploy/redis/slussen.conf and the arguments compose
    and Kubernetes give it (the port moved to a Unix socket), and wants the
    password.

Usage: deploy_test.py REPO_ROOT SLUSSEN_BINARY SLUSSCTL_BINARY
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

ROOT, SLUSSEN, SLUSSCTL = sys.argv[1:4]
DEPLOY = os.path.join(ROOT, "deploy")
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
check("listen" in broker_flags and "server" in ctl_flags,
      "cannot read the binaries' flags")


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


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def labels_of(obj):
    return obj["spec"]["template"]["metadata"].get("labels", {})


workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])
broker = next(w for w in by_kind["Deployment"] if w["metadata"]["name"] ==
              "slussen")
container = pod_spec(broker)["containers"][0]
args = container["args"]
check_flags(args, broker_flags, "broker.yaml")
check_env([e["name"] for e in container.get("env", [])], "broker.yaml")
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
job_args = slussctl_args(job_command) or []
certs = flag_value(job_args, "certs")
check(certs in {m["mountPath"] for m in job_container["volumeMounts"]},
      f"catalogue-job.yaml: --certs {certs} is not a mounted volume")

services = {s["metadata"]["name"]: s for s in by_kind["Service"]}
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
redis_args = pod_spec(redis_set)["containers"][0]["args"]

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

# --- Dockerfile -----------------------------------------------------------
dockerfile = open(os.path.join(DEPLOY, "container", "Dockerfile")).read()
stages = re.split(r"^FROM ", dockerfile, flags=re.M)
for line in re.findall(r"^COPY (?!--from)(.*)$", dockerfile, flags=re.M):
    for source in line.split()[:-1]:
        check(os.path.exists(os.path.join(ROOT, source)),
              f"Dockerfile: COPY {source}: no such file")
check("COPY providers/catalog /usr/share/slussen/catalog" in dockerfile and
      "/usr/share/slussen/catalog/" in " ".join(job_args),
      "the catalogue Job does not read where the image puts the catalogue")
broker_stage = next(s for s in stages if s.split()[2] == "broker")
installed = set(re.findall(r"\b(lib[a-z0-9+.-]+|zlib1g)\b",
                           broker_stage.split("useradd")[0]))
libraries = set()
for binary in (SLUSSEN, SLUSSCTL):
    for lib in re.findall(r"=> (\S+)",
                          subprocess.run(["ldd", binary], capture_output=True,
                                         text=True).stdout):
        # dpkg knows a file by the path its package installed (/lib or
        # /usr/lib on a merged /usr): ask for both, once.
        libraries.update({lib, os.path.realpath(lib)})
owners = subprocess.run(["dpkg", "-S", *sorted(libraries)],
                        capture_output=True, text=True).stdout
linked = {line.split(":")[0] for line in owners.splitlines() if ":" in line}
check(linked, "could not find the binaries' library packages")
base = {"libc6", "libgcc-s1", "libstdc++6"}  # in debian:bookworm-slim
for package in sorted(linked - base - installed):
    failures.append(f"Dockerfile: the broker stage does not install {package}"
                    " (the binaries link it)")

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

for failure in failures:
    print("deploy_test:", failure)
print(f"deploy_test: {len(failures)} problems")
sys.exit(1 if failures else 0)
