#!/usr/bin/env python3
"""make bench: spn beside the tools people would use instead, in one run on
one machine, with the same load generator (wrk) and the same load.

Prints a table and writes the figures as JSON (--json FILE): throughput,
p50 and p99 latency, CPU seconds per operation (every process of the server
side, children included), peak RSS (the sum of the servers' high-water
marks) and spn's ratio to its baseline. Nothing here is asserted; the
figures are read by people (doc/benchmarks.md).

Run from the build directory with top_builddir and top_srcdir set (make
bench does). Needs wrk, nginx and cfssl from Debian; installs them when
run as root (tests/scripts/deps-debian.sh bench), else says what to install."""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

B = os.path.abspath(os.environ.get("top_builddir", "."))
S = os.path.abspath(os.environ.get("top_srcdir", "."))
SPNCTL = os.path.join(B, "core", "spnctl")
SPND = os.path.join(B, "core", "spnd")
PREP = os.path.join(B, "tests", "bench", "bench_prep")
CRYPTO = os.path.join(B, "tests", "bench", "bench_crypto")
WRK_LUA = os.path.join(S, "tests", "bench", "wrk.lua")
PASS = "bench passphrase, not a secret"
ENV = dict(os.environ, SPN_CA_PASSPHRASE=PASS)
TOOLS = {"wrk": "wrk", "nginx": "nginx", "cfssl": "golang-cfssl"}
HZ = os.sysconf("SC_CLK_TCK")


def say(*a):
    print(*a, flush=True)


def need_tools():
    missing = [pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit("bench: install %s (Debian packages) or run as root" % " ".join(missing))
    say("== installing %s" % " ".join(missing))
    # The one place that installs them keeps nginx from being left enabled.
    subprocess.run(["sh", os.path.join(S, "tests", "scripts", "deps-debian.sh"), "bench"], check=True,
                   stdout=subprocess.DEVNULL)


# --- processes and what they cost ------------------------------------------

def children_of():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def family(pids):
    """The processes and all their descendants."""
    kids, out, todo = children_of(), [], list(pids)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pids, children=True):
    total = 0
    for p in (family(pids) if children else pids):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / HZ


def memory_kb(pids, field="VmHWM"):
    total = 0
    for p in family(pids):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Servers:
    """Daemons started by the benchmark; all are killed at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log, **kw):
        p = subprocess.Popen(argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=ENV,
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self, p):
        self.procs.remove(p)
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        except ProcessLookupError:
            p.wait()

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


SERVERS = Servers()


def wait_file(path, proc, what, limit=15.0):
    end = time.time() + limit
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit("bench: %s did not start (see %s)" % (what, os.path.dirname(path)))


def wrk(url, prefix, path, expect, seconds, threads, conns):
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s", "-s", WRK_LUA, url,
            "--", prefix, path, expect]
    r = subprocess.run(argv, capture_output=True, text=True)
    line = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not line:
        sys.exit("bench: wrk failed:\n%s%s" % (r.stdout, r.stderr))
    out = json.loads(line[-1])
    if r.stderr.strip():
        out["note"] = r.stderr.strip().splitlines()[0][:200]
    return out


def parts_of(servers):
    """Each server's own process, and its children apart (spn's plugin
    processes), by name: a node's directory, or the program's name."""
    parts = []
    for p in servers:
        if p.args[0] != SPND:
            parts.append((os.path.basename(p.args[0]), family([p.pid]), False))
            continue
        name = os.path.basename(os.path.dirname(p.args[-1]))
        parts.append((name, [p.pid], False))
        kids = [q for q in family([p.pid]) if q != p.pid]
        if kids:
            parts.append((name + "'s plugins", kids, False))
    return parts


def syscall_counter(pids):
    """perf counting the system calls of pids, when SPN_BENCH_SYSCALLS is
    set (needs perf and access to tracepoints)."""
    if not os.environ.get("SPN_BENCH_SYSCALLS") or not pids:
        return None
    out = tempfile.mktemp(prefix="spn-bench-sc-")
    p = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-o", out, "-p",
                          ",".join(str(q) for q in pids)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, out


def syscall_count(counter):
    if not counter:
        return None
    p, out = counter
    p.send_signal(signal.SIGINT)
    p.wait()
    try:
        with open(out) as f:
            for line in f:
                if "raw_syscalls:sys_enter" in line:
                    return int(line.split(",")[0])
    except (OSError, ValueError):
        return None
    finally:
        if os.path.exists(out):
            os.unlink(out)
    return None


def loaded(servers, run):
    """Runs the load; adds the servers' CPU per operation and peak RSS, and
    per process (each node, its plugins) CPU per operation; with
    SPN_BENCH_SYSCALLS=1, system calls per operation too.
    With SPN_BENCH_PERF=FILE, the servers are sampled by perf meanwhile."""
    pids = [p.pid for p in servers]
    parts = parts_of(servers)
    before = cpu_seconds(pids)
    before_parts = [cpu_seconds(ps, children) for _, ps, children in parts]
    counters = [syscall_counter(ps) for _, ps, _ in parts]
    perf = None
    if os.environ.get("SPN_BENCH_PERF"):
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock"] + os.environ.get("SPN_BENCH_PERF_ARGS", "-g").split() + [ "-o",
                                 "%s.%d" % (os.environ["SPN_BENCH_PERF"], len(ROWS)) + ("" if servers[0].args[0] == SPND else ".base"), "-p", ",".join(str(p) for p in family(pids))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = run()
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    n = max(r["requests"], 1)
    r["cpu_s_per_op"] = (cpu_seconds(pids) - before) / n
    r["per_process"] = []
    for (name, ps, children), b, c in zip(parts, before_parts, counters):
        x = {"process": name, "cpu_us_per_op": (cpu_seconds(ps, children) - b) / n * 1e6}
        sc = syscall_count(c)
        if sc is not None:
            x["syscalls_per_op"] = sc / n
        r["per_process"].append(x)
    r["rate"] = r["requests"] / r["seconds"]
    r["peak_rss_kb"] = memory_kb(pids)
    return r


# --- a group of spn daemons ---------------------------------------------------

def spnctl(*args):
    r = subprocess.run([SPNCTL] + list(args), capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        sys.exit("bench: spnctl %s: %s" % (args[0], r.stderr.strip()))
    return r.stdout.strip()


class Group:
    def __init__(self, work, name, keytype="ed25519", tls=False, max_children=None, ledger=None, init=()):
        self.work, self.tls, self.nodes = work, tls, {}
        self.psp = os.path.join(work, "psp")
        spnctl("init", "-d", self.psp, "-g", name, "-t", keytype, *(("--ledger", ledger) if ledger else ()), *init)
        if max_children:
            conf = os.path.join(self.psp, "spnd.conf")
            with open(conf) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text.replace("max_children = 16", "max_children = %d" % max_children))
        self.root = os.path.join(self.psp, "ca", "root.crt")
        self.settings(self.psp, "")
        self.start("psp", self.psp)

    def settings(self, d, extra, http=True):
        with open(os.path.join(d, "spnd.conf"), "a") as f:
            if http:  # spnctl enroll writes it for members
                f.write("\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\ntls = %s\n"
                        % ("true" if self.tls else "false"))
            f.write("\n[session]\nbudget = 100000000\n\n%s\n" % extra)

    def start(self, name, d):
        port_file = os.path.join(d, "spnd.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        p = SERVERS.start([SPND, "-c", os.path.join(d, "spnd.conf")], os.path.join(d, "spnd.log"))
        wait_file(port_file, p, "spnd " + name)
        self.nodes[name] = (d, p)
        return p

    def url(self, name):
        with open(os.path.join(self.nodes[name][0], "spnd.port")) as f:
            return "%s://127.0.0.1:%s" % ("https" if self.tls else "http", f.read().strip())

    def join(self, name, parent, role, trust, services, extra="", names=(), start=True, deadline_ms=1000,
             parent_url=None):
        """parent_url: where the node reaches its parent, when not at the
        parent's own address (through a Tap)."""
        d, pd = os.path.join(self.work, name), self.nodes[parent][0]
        if parent == "psp":
            tok = spnctl("token", "-c", os.path.join(pd, "spnd.conf"), "--id", name, "--role", role, "--trust",
                         str(trust), "--services", services)
        else:
            tok = spnctl("token", "--key", os.path.join(pd, "node.key"), "--cert", os.path.join(pd, "node.crt"),
                         "--id", name, "--role", role, "--trust", str(trust), "--services", services)
        fpr = subprocess.run(["sh", "-c", "openssl x509 -in '%s' -outform DER | sha256sum" % self.root],
                             capture_output=True, text=True).stdout.split()[0]
        spnctl("enroll", "--url", self.url(parent), "--fingerprint", fpr, "--token", tok, "-d", d,
               *[a for n in names for a in ("--name", n)])
        if not start:
            return d
        if parent_url:
            conf = os.path.join(d, "spnd.conf")
            with open(conf) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text.replace("parent = %s\n" % self.url(parent), "parent = %s\n" % parent_url))
        self.settings(d, "[tree]\nheartbeat_ms = 200\ndeadline_ms = %d\n%s" % (deadline_ms, extra), http=False)
        return self.start(name, d)

    def procs(self):
        return [p for _, p in self.nodes.values()]


def plugin_section(name):
    return "[plugins]\nenable = %s\npath = %s/plugins/%s\nhost = %s/core/spn-plugin-host\n" % (name, B, name, B)


# --- the rows -----------------------------------------------------------------

ROWS = []


def row(what, unit, spn, base_name, base, goal, higher_is_better=True):
    ratio = None
    if spn and base:
        ratio = spn["rate"] / base["rate"] if higher_is_better else base["rate"] / spn["rate"]
    ROWS.append({"row": what, "unit": unit, "spn": spn, "baseline_name": base_name, "baseline": base,
                 "ratio": ratio, "goal": goal})


def crypto(work, seconds):
    say("== message-level cryptography (bench_crypto, %g s per figure, one thread)" % seconds)
    out = os.path.join(work, "crypto.json")
    r = subprocess.run([CRYPTO, str(seconds), out], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: bench_crypto: " + r.stderr)
    sys.stdout.write(r.stdout)
    goals = {"session": 2.0, "section seal + open, 16 KB": 0.5}
    with open(out) as f:
        for line in f:
            x = json.loads(line)
            if "bytes" in x:
                ROWS.append({"row": "memory per open session (provider, 100,000 held)", "unit": "bytes",
                             "spn": {"bytes_per_session": x["bytes"]}, "baseline_name": None, "baseline": None,
                             "ratio": None, "goal": "<= 1024 bytes", "met": x["bytes"] <= 1024})
                continue
            goal = next((g for k, g in goals.items() if x["row"].startswith(k)), None)
            row(x["row"], "ops/s", {"rate": x["rate"], "cpu_s_per_op": 1 / x["rate"]}, x["baseline_name"],
                {"rate": x["baseline_rate"], "cpu_s_per_op": 1 / x["baseline_rate"]}, goal)


NGINX_CONF = """daemon off;
worker_processes auto;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log %(dir)s/access.log;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    keepalive_requests 1000000;
%(hops)s
    server {
        listen 127.0.0.1:%(origin)d%(ssl)s;
        location / { default_type application/json; return 200 '%(body)s'; }
    }
}
"""
NGINX_HOP = """    upstream next%(i)d { server 127.0.0.1:%(next)d; keepalive 64; }
    server {
        listen 127.0.0.1:%(port)d%(ssl)s;
        location / {
            proxy_pass %(scheme)s://next%(i)d;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
"""
# With TLS, every hop is mutual TLS with the group's certificates, as
# between spn nodes: servers ask for and check client certificates, proxies
# present theirs and check the next hop's name against the group's root.
NGINX_TLS = """    ssl_certificate %(d)s/node.crt;
    ssl_certificate_key %(d)s/node.key;
    ssl_client_certificate %(d)s/root.pem;
    ssl_verify_client optional;
    ssl_protocols TLSv1.3;
    proxy_ssl_certificate %(d)s/node.crt;
    proxy_ssl_certificate_key %(d)s/node.key;
    proxy_ssl_trusted_certificate %(d)s/root.pem;
    proxy_ssl_verify on;
    proxy_ssl_name localhost;
    proxy_ssl_protocols TLSv1.3;
    proxy_ssl_session_reuse on;
"""


def free_ports(n):
    import socket
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def nginx_chain(work, hops, tls_dir=None):
    """hops reverse proxies in front of an origin answering 1 KB; with
    tls_dir (a member's state: node.crt, node.key, root.pem), all TLS."""
    d = os.path.join(work, "nginx")
    os.makedirs(d)
    ports = free_ports(hops + 1)
    body = '{"echo":"' + "a" * (1024 - 11) + '"}'
    ssl = " ssl" if tls_dir else ""
    conf = NGINX_CONF % {"dir": d, "origin": ports[-1], "body": body, "ssl": ssl,
                         "hops": (NGINX_TLS % {"d": tls_dir} if tls_dir else "") +
                         "".join(NGINX_HOP % {"i": i, "port": ports[i], "next": ports[i + 1], "ssl": ssl,
                                              "scheme": "https" if tls_dir else "http"} for i in range(hops))}
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    p = SERVERS.start(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf")], os.path.join(d, "nginx.out"))
    wait_file(os.path.join(d, "nginx.pid"), p, "nginx")
    return p, "%s://127.0.0.1:%d" % ("https" if tls_dir else "http", ports[0])


def message_group(work, tls, p1_extra="", plugin="echo"):
    """The group of the message rows: entry node e1 and provider p1 (the
    echo plugin, or another providing echo) below an administrator."""
    g = Group(os.path.join(work, "msg"), "bench", tls=tls)
    g.join("adm", "psp", "admin", 8, "")
    g.join("e1", "adm", "spn", 3, "")
    g.join("p1", "adm", "spn", 3, "echo", plugin_section(plugin) + p1_extra)
    return g


def message_load(g, prefix, seconds, threads, conns, also=()):
    """A function that runs wrk against e1 for seconds with 1 KB messages
    for p1's echo, each sent once: a short run first tells how many are
    needed, then that many are sealed before each measured run."""
    def prep(count):
        end = time.time() + 15
        while True:  # until p1's registration has reached adm
            r = subprocess.run([PREP, "msgs", g.url("e1"), g.root, "echo", "1024", str(count), prefix,
                                str(threads)], capture_output=True, text=True)
            if r.returncode == 0:
                return
            if time.time() > end:
                sys.exit("bench: " + r.stderr.strip())
            time.sleep(0.2)

    prep(2000)
    probe = wrk(g.url("e1"), prefix, "/v1/message", '"section"', min(2, seconds), threads, conns)
    need = int(probe["requests"] / probe["seconds"] * seconds * 1.5 / threads) + 2000

    def run():
        prep(need)
        return loaded(g.procs() + list(also), lambda: wrk(g.url("e1"), prefix, "/v1/message", '"section"', seconds,
                                                          threads, conns))
    return run


def messages(work, seconds, threads, conns, tls):
    say("== messages through the tree: 1 KB, entry node -> administrator -> provider (echo plugin), %s"
        % ("mutual TLS" if tls else "plain HTTP"))
    work = os.path.join(work, "tls" if tls else "plain")
    g = message_group(work, tls)
    ngx_id = g.join("ngx", "adm", "spn", 3, "", names=("localhost", "127.0.0.1"), start=False) if tls else None
    prefix = os.path.join(work, "msgs")
    spn = message_load(g, prefix, seconds, threads, conns)()
    SERVERS.stop_all()
    ngx, url = nginx_chain(work, 3, ngx_id)
    wrk(url, prefix, "/v1/message", '"echo"', 1, threads, conns)  # warm up, as spn was
    base = loaded([ngx], lambda: wrk(url, prefix, "/v1/message", '"echo"', seconds, threads, conns))
    SERVERS.stop_all()
    row("messages through 3 hops, 1 KB (%s)" % ("mutual TLS" if tls else "plain HTTP"), "req/s", spn,
        "3 nginx reverse proxies (keepalive) + 1 KB origin", base, 1.0)


def upstream(work, seconds, threads, conns):
    say("== messages as above (mutual TLS), the provider's service a local HTTP service (nginx answering 1 KB) "
        "behind the http plugin, beside the echo plugin answering in its own process")
    work = os.path.join(work, "upstream")
    base = message_load(message_group(os.path.join(work, "c"), True), os.path.join(work, "c-msgs"), seconds,
                        threads, conns)()
    SERVERS.stop_all()
    ngx, url = nginx_chain(os.path.join(work, "origin"), 0)
    port = int(url.rsplit(":", 1)[1])
    g = message_group(os.path.join(work, "h"), True, "\n[plugin.http]\nservices = echo\nupstream.echo = %s/\n"
                      "connect = %d\n" % (url, port), plugin="http")
    spn = message_load(g, os.path.join(work, "h-msgs"), seconds, threads, conns, also=[ngx])()
    SERVERS.stop_all()
    row("messages through 3 hops, 1 KB, mutual TLS: the service over HTTP (http plugin + nginx)", "req/s", spn,
        "the same, the echo plugin", base, "report")


class Hanger:
    """A client that keeps one section hanging p1's echo plugin: it sends
    "hang" through e1, and again each time the plugin's timeout ends one."""

    def __init__(self, g):
        self.g, self.stop, self.proc = g, False, None
        import threading
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            self.proc = subprocess.Popen([os.path.join(B, "core", "spn-client"), "--url", self.g.url("e1"), "--root",
                                          self.g.root, "--name", "hanger", "echo=hang"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self.stop:
                self.proc.kill()
            self.proc.wait()

    def hanging(self, limit=15.0):
        """Waits until a hanging section has reached p1."""
        log, end = os.path.join(self.g.nodes["p1"][0], "spnd.log"), time.time() + limit
        while time.time() < end:
            with open(log) as f:
                if "from hanger:" in f.read():
                    return
            time.sleep(0.1)
        sys.exit("bench: the hanging section did not reach p1 (see %s)" % log)

    def end(self):
        self.stop = True
        if self.proc:
            self.proc.kill()
        self.thread.join()


def hang(work, seconds, threads, conns):
    say("== messages as above (mutual TLS), %d sections at once; meanwhile, or not, one more that hangs the "
        "provider's plugin" % (conns + 1))
    work = os.path.join(work, "hang")
    # The plugin's default timeout (10 s) and processes (4): one section
    # hangs through the whole measured run.
    g = message_group(work, True, "\n[plugin.echo]\nfaults = true\n")
    run = message_load(g, os.path.join(work, "msgs"), seconds, threads, conns)
    base = run()
    hanger = Hanger(g)
    hanger.hanging()
    spn = run()
    hanger.end()
    SERVERS.stop_all()
    # No request completed at all: every client waited for the hung one.
    ratio = spn["p99_us"] / max(base["p99_us"], 1) if spn["requests"] else None
    ROWS.append({"row": "messages through 3 hops, 1 KB, mutual TLS: %d at once, one more hanging the plugin" % conns,
                 "unit": "req/s", "spn": spn, "baseline_name": "the same, nothing hanging", "baseline": base,
                 "ratio": ratio, "goal": "p99 <= 1.25x", "met": ratio is not None and ratio <= 1.25})


CFSSL_SCHEMA = ("CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, "
                "ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, "
                "pem blob NOT NULL, PRIMARY KEY(serial_number, authority_key_identifier));")


def cfssl_serve(work):
    """cfssl serve with an ECDSA P-256 CA of its own making, recording every
    certificate in its SQLite certificate database, as spn's ledger does."""
    d = os.path.join(work, "cfssl")
    os.makedirs(d)
    with open(os.path.join(d, "ca.json"), "w") as f:
        json.dump({"CN": "bench baseline CA", "key": {"algo": "ecdsa", "size": 256}, "names": [{"O": "bench"}]}, f)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"signing": {"default": {"expiry": "168h", "usages": [
            "digital signature", "server auth", "client auth"]}}}, f)
    with open(os.path.join(d, "db.json"), "w") as f:
        # The ledger's own settings (WAL, synchronous FULL), and a busy
        # timeout so that concurrent signers wait rather than fail.
        json.dump({"driver": "sqlite3", "data_source": "file:%s?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL"
                   % os.path.join(d, "certs.db")}, f)
    subprocess.run("cfssl genkey -initca ca.json | cfssljson -bare ca", shell=True, cwd=d, check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run(["sqlite3", os.path.join(d, "certs.db"), CFSSL_SCHEMA], check=True)
    port = free_ports(1)[0]
    p = SERVERS.start(["cfssl", "serve", "-address", "127.0.0.1", "-port", str(port), "-ca", "ca.pem", "-ca-key",
                       "ca-key.pem", "-config", "config.json", "-db-config", "db.json", "-loglevel", "3"],
                      os.path.join(d, "serve.log"), cwd=d)
    url = "http://127.0.0.1:%d" % port
    end = time.time() + 15
    while time.time() < end:
        try:
            urllib.request.urlopen(url + "/api/v1/cfssl/health", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    return p, url, os.path.join(d, "certs.db")


def count_rows(db, table):
    r = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", db, "SELECT COUNT(*) FROM %s" % table], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: %s: %s" % (db, r.stderr.strip()))
    return int(r.stdout.strip())


PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:] or [None]


def pg_server(work):
    """A PostgreSQL server of the bench's own (unix socket, no TCP, fsync
    and synchronous commits on), run in the foreground so that its CPU is
    counted and stop_all ends it; its ledger database's URI. None when
    there is no server here."""
    pg = PG_BIN[0]
    if not pg or not os.path.exists(os.path.join(pg, "initdb")):
        return None, None
    d = os.path.join(work, "pg")
    os.makedirs(d)
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        os.chmod(work, 0o711)  # the server's user passes through, reading nothing
        shutil.chown(d, "postgres")
    subprocess.run(as_pg + [os.path.join(pg, "initdb"), "-D", os.path.join(d, "data"), "-A", "trust", "-U",
                            "postgres"], check=True, capture_output=True)
    with open(os.path.join(d, "data", "postgresql.conf"), "a") as f:
        f.write("listen_addresses = ''\nunix_socket_directories = '%s'\nport = 5439\nfsync = on\n"
                "synchronous_commit = on\n" % d)
    p = SERVERS.start(as_pg + [os.path.join(pg, "postgres"), "-D", os.path.join(d, "data")],
                      os.path.join(d, "server.log"))
    end = time.time() + 30
    while subprocess.run(as_pg + [os.path.join(pg, "createdb"), "-h", d, "-p", "5439", "-U", "postgres", "spn"],
                         capture_output=True).returncode != 0:
        if time.time() > end:
            sys.exit("bench: the PostgreSQL server did not start (see %s/server.log)" % d)
        time.sleep(0.2)
    return p, "postgresql:///spn?host=%s&port=5439&user=postgres" % d


def pg_count(uri, table):
    d = uri.split("host=")[1].split("&")[0]
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    r = subprocess.run(as_pg + [os.path.join(PG_BIN[0], "psql"), "-h", d, "-p", "5439", "-U", "postgres", "-d", "spn",
                                "-Atqc", "SELECT COUNT(*) FROM %s" % table], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: ledger count: %s" % r.stderr.strip())
    return int(r.stdout.strip())


SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


def softhsm_token(work):
    """A SoftHSM2 token of the run's own, its PIN the CA passphrase: the
    arguments that make the group's root key in it, or () without SoftHSM2."""
    if not os.path.exists(SOFTHSM) or not shutil.which("softhsm2-util"):
        say("   (softhsm2 not installed: no row for the CA key in a token)")
        return ()
    d = os.path.join(work, "softhsm")
    os.makedirs(os.path.join(d, "tokens"))
    with open(os.path.join(d, "softhsm2.conf"), "w") as f:
        f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n" % d)
    ENV["SOFTHSM2_CONF"] = os.path.join(d, "softhsm2.conf")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PASS, "--so-pin", PASS],
                   check=True, capture_output=True, env=ENV)
    return ("--key", "pkcs11:token=bench;object=root", "--pkcs11-module", SOFTHSM)


def issuance(work, seconds, threads, conns):
    say("== certificate issuance over REST: ECDSA P-256 CSRs, every certificate recorded")
    prefix = os.path.join(work, "csr-base")
    results = {}
    pg, uri = pg_server(work)
    token = softhsm_token(work)
    for keytype in ("p256", "ed25519") + (("pg",) if uri else ()) + (("token",) if token else ()):
        g = Group(os.path.join(work, "ca-" + keytype), "bench",
                  keytype={"pg": "ed25519", "token": "p256"}.get(keytype, keytype),
                  ledger=uri if keytype == "pg" else None, init=token if keytype == "token" else ())
        ledger = os.path.join(g.psp, "ledger.db")
        pre = os.path.join(work, "enroll-" + keytype)

        def ledger_rows(uri=uri if keytype == "pg" else None, ledger=ledger):
            return pg_count(uri, "certs") if uri else count_rows(ledger, "certs")

        def prep(count):
            r = subprocess.run([PREP, "enroll", os.path.join(g.psp, "spnd.conf"), str(count), pre, str(threads)],
                               capture_output=True, text=True, env=ENV)
            if r.returncode != 0:
                sys.exit("bench: " + r.stderr.strip())
        prep(1000)
        probe = wrk(g.url("psp"), pre, "/v1/enroll", '"certificate"', min(2, seconds), threads, conns)
        before = ledger_rows()
        prep(int(probe["requests"] / probe["seconds"] * seconds * 1.5) + 1000)
        r = loaded(g.procs() + ([pg] if keytype == "pg" else []),
                   lambda: wrk(g.url("psp"), pre, "/v1/enroll", '"certificate"', seconds, threads, conns))
        r["recorded"] = ledger_rows() - before
        results[keytype] = r
        if keytype == "p256":
            shutil.copy(pre + ".csr", prefix + ".csr")
        # The PostgreSQL server stays up for its row, stopped with the rest.
        for name, (d, proc) in list(g.nodes.items()):
            SERVERS.stop(proc)
    # The baseline signs the same kind of CSR (same key type, same names).
    with open(prefix + ".csr") as f:
        body = json.dumps({"certificate_request": f.read()})
    for t in range(threads):
        with open("%s.%d" % (prefix, t), "w") as f:
            f.write(body + "\n")
    cf, url, db = cfssl_serve(work)
    wrk(url, prefix, "/api/v1/cfssl/sign", '"success":true', 1, threads, conns)
    before = count_rows(db, "certificates")
    base = loaded([cf], lambda: wrk(url, prefix, "/api/v1/cfssl/sign", '"success":true', seconds, threads, conns))
    base["recorded"] = count_rows(db, "certificates") - before
    SERVERS.stop_all()
    row("certificate issuance, ECDSA P-256 CA", "certs/s", results["p256"],
        "cfssl serve, ECDSA P-256 CA, SQLite certdb", base, 1.2)
    row("certificate issuance, Ed25519 CA (default)", "certs/s", results["ed25519"],
        "cfssl serve (same run as above)", base, 2.0)
    if "pg" in results:
        row("certificate issuance, Ed25519 CA, PostgreSQL ledger", "certs/s", results["pg"],
            "the same on the SQLite ledger (above)", results["ed25519"], "report")
    if "token" in results:
        row("certificate issuance, ECDSA P-256 CA key in a PKCS#11 token (SoftHSM2)", "certs/s", results["token"],
            "the same with the key in a file (first row)", results["p256"], "report")


def private_kb(pid):
    """Memory no other process shares: what the process itself costs."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def memory(work):
    say("== memory of an idle spnd, beside a program that only loads the same libraries")
    ready = os.path.join(work, "floor.ready")
    p = SERVERS.start([os.path.join(B, "tests", "bench", "bench_floor"), ready], os.path.join(work, "floor.log"))
    wait_file(ready, p, "bench_floor")
    time.sleep(1)
    floor = {"rss_kb": memory_kb([p.pid], "VmRSS"), "private_kb": private_kb(p.pid)}
    SERVERS.stop_all()
    g = Group(os.path.join(work, "idle"), "bench", tls=True)
    g.join("adm", "psp", "admin", 8, "")
    # Its service answered by the echo plugin (spnd has none of its own),
    # in a process of its own that the figures below leave out.
    g.join("m1", "adm", "spn", 3, "a", plugin_section("echo") + "\n[plugin.echo]\nservices = a\n")
    time.sleep(3)  # heartbeats and registrations done, then idle
    for name, label in (("psp", "the PSP"), ("m1", "a member")):
        pid = g.nodes[name][1].pid
        got = {"rss_kb": memory_kb([pid], "VmRSS"), "private_kb": private_kb(pid),
               "threads": int(open("/proc/%d/status" % pid).read().split("Threads:")[1].split()[0])}
        ROWS.append({"row": "spnd idle, %s (TLS)" % label, "unit": "kB", "spn": got,
                     "baseline_name": "the same libraries loaded, nothing else", "baseline": floor,
                     "ratio": None, "goal": "<= 8 MB", "met": got["rss_kb"] <= 8192})
    SERVERS.stop_all()


class Tap:
    """A TCP relay in front of a node that keeps, for each request through it,
    the bytes sent each way on the wire (TLS records, HTTP headers and body):
    HTTP/1.1 alternates, so a request is what goes up until the answer starts
    coming down."""

    def __init__(self, port):
        import socket
        import threading
        self.port, self.lock, self.requests = port, threading.Lock(), []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "https://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        import socket
        import threading
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.port))
            except OSError:  # the node behind is stopping
                down.close()
                continue
            state = {"up": 0, "down": 0, "at": 0.0}
            threading.Thread(target=self.pump, args=(down, up, state, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(up, down, state, False), daemon=True).start()

    def pump(self, src, dst, state, upward):
        while True:
            try:
                data = src.recv(65536)
                if data:
                    dst.sendall(data)
            except OSError:
                data = b""
            with self.lock:
                if upward and data and state["down"]:
                    self.requests.append((state["at"], state["up"], state["down"]))
                    state["up"] = state["down"] = 0
                if upward and data and not state["up"]:
                    state["at"] = time.time()
                state["up" if upward else "down"] += len(data)
            if not data:
                for s_ in (src, dst):
                    try:
                        s_.shutdown(2)
                    except OSError:
                        pass
                return

    def since(self, t):
        with self.lock:
            return [r for r in self.requests if r[0] >= t]

    def close(self):
        self.sock.close()


def ledger_bytes(db):
    r = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", db, "PRAGMA page_count", "PRAGMA page_size"],
                       capture_output=True, text=True)
    count, size = r.stdout.split()
    return int(count) * int(size)


def crl_der_bytes(pem_file):
    import base64
    with open(pem_file) as f:
        text = f.read()
    return len(base64.b64decode("".join(l for l in text.splitlines() if l and not l.startswith("-----"))))


def crl_per_entry(g, revoke):
    """Revokes `revoke` members' certificates with spnctl, one by one as an
    operator would, and returns the CRL's DER size before and per entry."""
    conf = os.path.join(g.psp, "spnd.conf")
    serials = [l.split()[0] for l in spnctl("list", "-c", conf).splitlines() if " spn " in l][:revoke]
    before = crl_der_bytes(os.path.join(g.psp, "crl.pem"))
    for serial in serials:
        spnctl("revoke", "-c", conf, serial)
    return before, (crl_der_bytes(os.path.join(g.psp, "crl.pem")) - before) / max(len(serials), 1)


def registry(work, members, admins, revoke=0):
    """Convergence at the root as members join; with it, what the root holds
    and receives per member: its memory, the ledger's growth, the bytes of a
    heartbeat and of one member's delta on the wire (adm0 reaches the PSP
    through a Tap), the registry code's time at that size (bench_join tree)
    and, with revoke, the CRL's size per revoked certificate."""
    say("== registry convergence: %d members join below %d administrators at once" % (members, admins))
    work = os.path.join(work, "reg%d" % members)
    g = Group(work, "bench", tls=True, max_children=members + 1)
    join_bin = os.path.join(B, "tests", "bench", "bench_join")
    tap = Tap(int(g.url("psp").rsplit(":", 1)[1]))
    # The simulated members do not send heartbeats during the measurement.
    for i in range(admins):
        g.join("adm%d" % i, "psp", "admin", 8, "", deadline_ms=600000, parent_url=tap.url if i == 0 else None)
    ledger = os.path.join(g.psp, "ledger.db")
    ledger0, certs0 = ledger_bytes(ledger), count_rows(ledger, "certs")
    dirs, preps = [], []
    for i in range(admins):
        d = os.path.join(work, "members%d" % i)
        os.makedirs(d)
        dirs.append(d)
        name = "adm%d" % i
        # adm0 enrolls one more: the member whose delta is measured alone.
        preps.append(subprocess.Popen([join_bin, "members", g.nodes[name][0], g.url(name), g.root,
                                       str(members // admins + (i == 0)), d], stderr=subprocess.PIPE, text=True))
    for p in preps:
        if p.wait() != 0:
            sys.exit("bench: bench_join members: exit %d: %s" % (p.returncode, p.stderr.read().strip()))
    enrolled = count_rows(ledger, "certs") - certs0
    ledger_per_cert = (ledger_bytes(ledger) - ledger0) / max(enrolled, 1)
    last = os.path.join(work, "last")
    os.makedirs(last)
    for f in ("member.key", "url"):
        shutil.copy(os.path.join(dirs[0], f), last)
    crt = "adm0-m%d.crt" % (members // admins)
    os.rename(os.path.join(dirs[0], crt), os.path.join(last, crt))

    def join(threads, *of):
        r = subprocess.run([join_bin, "join", g.psp, g.url("psp"), g.root, str(threads)] + list(of),
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("bench: bench_join join: exit %d: %s" % (r.returncode, r.stderr.strip()))
        return json.loads(r.stdout.strip().splitlines()[-1])

    psp = g.nodes["psp"][1].pid
    mem0 = (memory_kb([psp], "VmRSS"), private_kb(psp))
    got = join(8, *dirs)
    mem1 = (memory_kb([psp], "VmRSS"), private_kb(psp))
    got["peak_rss_kb"] = memory_kb([p.pid for p in g.procs()])
    got.update({"root_rss_kb_before": mem0[0], "root_rss_kb_after": mem1[0], "root_private_kb_before": mem0[1],
                "root_private_kb_after": mem1[1], "root_bytes_per_entry": (mem1[1] - mem0[1]) * 1024 / members,
                "ledger_bytes_per_cert": ledger_per_cert})
    # adm0's requests to the PSP: heartbeats alone for a few seconds, then
    # the one that carries its last member's registration.
    t, cpu = time.time(), cpu_seconds([psp])
    time.sleep(3)
    beats = tap.since(t)
    # Every administrator beats as adm0 does; the PSP's other upkeep in
    # those seconds is counted too, so this is an upper bound.
    got["root_cpu_us_per_heartbeat"] = (cpu_seconds([psp]) - cpu) * 1e6 / max(len(beats) * admins, 1)
    beat = sorted(r[1] for r in beats)[len(beats) // 2] if beats else 0
    t = time.time()
    one = join(1, last)
    # The registration rides on adm0's next heartbeat: waited for (it is
    # the one larger than a plain beat), not assumed within a fixed time.
    deadline = time.time() + 10
    sent = tap.since(t)
    while time.time() < deadline and not any(r[1] > beat for r in sent):
        time.sleep(0.05)
        sent = tap.since(t)
    tap.close()
    delta = max(sent, key=lambda r: r[1]) if sent else (0, 0, 0)
    got.update({"heartbeats_per_s": len(beats) / 3, "heartbeat_wire_bytes": beat,
                "heartbeat_answer_wire_bytes": sorted(r[2] for r in beats)[len(beats) // 2] if beats else 0,
                "delta_wire_bytes": delta[1], "delta_answer_wire_bytes": delta[2], "last_join_ms": one["p50_ms"]})
    SERVERS.stop_all()
    if revoke:
        got["crl_der_bytes_empty"], got["crl_der_bytes_per_entry"] = crl_per_entry(g, min(revoke, members))
    r = subprocess.run([join_bin, "tree", str(members), str(admins)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: bench_join tree: " + r.stderr.strip())
    got["registry_code"] = json.loads(r.stdout)
    ROWS.append({"row": "registry convergence, %d members joining at once" % members, "unit": "ms", "spn": got,
                 "baseline_name": None, "baseline": None, "ratio": None,
                 "goal": "every join at the root within 1 s",
                 "met": got["failed"] == 0 and got["within_1s"] == got["members"]})


# --- the table ------------------------------------------------------------------

def fmt_rate(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x


def verdict(r):
    s_, b = r["spn"], r["baseline"]
    if s_ and (s_.get("failed") or s_.get("socket_errors") or s_.get("repeated")):
        return "INVALID: spn had failed or repeated requests (see the JSON)"
    if b and (b.get("failed") or b.get("socket_errors")):
        return "(the baseline failed %d requests: see the JSON)" % (b.get("failed", 0) + b.get("socket_errors", 0))
    met = r.get("met")
    if met is None and r["ratio"] is not None and isinstance(r["goal"], (int, float)):
        met = r["ratio"] >= r["goal"]
    return "" if met is None else ("met" if met else "SHORT of the goal")


def per_process(r):
    """Where a loaded row's CPU went, process by process (a hop each)."""
    parts = [x for x in r.get("per_process", []) if x["cpu_us_per_op"] >= 0.5]
    if len(parts) < 2 and not any("syscalls_per_op" in x for x in parts):
        return
    say("    per op: " + ", ".join("%s %.0f us%s" % (x["process"], x["cpu_us_per_op"],
                                                   " %.1f syscalls" % x["syscalls_per_op"]
                                                   if "syscalls_per_op" in x else "") for x in parts))


def registry_lines(x, goal, verdict_):
    say("  spn: %d members, %d failed; each join listed at the root after p50 %d ms, p99 %d ms, max %d ms (the "
        "root listed every %.0f ms); all listed %.1f s after the first started    goal %s  %s"
        % (x["members"], x["failed"], x["p50_ms"], x["p99_ms"], x["max_ms"], x["listing_every_ms"],
           x["all_listed_after_ms"] / 1000, goal, verdict_))
    say("  the root (PSP): VmRSS %.1f -> %.1f MB, private %.1f -> %.1f MB: %.0f bytes per registry entry; ledger "
        "%.0f bytes per certificate issued" % (x["root_rss_kb_before"] / 1024, x["root_rss_kb_after"] / 1024,
                                              x["root_private_kb_before"] / 1024, x["root_private_kb_after"] / 1024,
                                              x["root_bytes_per_entry"], x["ledger_bytes_per_cert"]))
    say("  adm0 -> the root, on the wire (TLS): a heartbeat %d bytes (its answer %d), %.1f/s, at most %.0f us of the "
        "root's CPU each; the one that carries a member's joining %d bytes (its answer %d), listed at the root after "
        "%d ms" % (x["heartbeat_wire_bytes"], x["heartbeat_answer_wire_bytes"], x["heartbeats_per_s"],
                   x["root_cpu_us_per_heartbeat"], x["delta_wire_bytes"], x["delta_answer_wire_bytes"],
                   x["last_join_ms"]))
    c = x["registry_code"]
    say("  the root's registry code at %d entries (in process): %.0f bytes allocated per entry; a one-member delta "
        "%.0f us (body %d bytes), a heartbeat %.0f us (%d), a subtree of %d sent whole %.1f ms (%.0f KB), the "
        "listing (GET /v1/tree) %.0f ms (%.0f KB, %.1f MB of heap while it is built)"
        % (c["entries"], c["held_bytes_per_entry"], c["delta_us"], c["delta_bytes"], c["heartbeat_us"],
           c["heartbeat_bytes"], c["subtree_entries"], c["subtree_us"] / 1000, c["subtree_bytes"] / 1024,
           c["listing_us"] / 1000, c["listing_bytes"] / 1024, c["listing_heap_bytes"] / 1048576))
    if "crl_der_bytes_per_entry" in x:
        say("  the CRL (DER): %d bytes with no entry, %.1f bytes per revoked certificate"
            % (x["crl_der_bytes_empty"], x["crl_der_bytes_per_entry"]))


def table():
    cols = "%-52s %9s %8s %8s %10s %7s"
    say("")
    say("== results (one run, one machine: %d CPUs)" % os.cpu_count())
    say((cols + " %8s  %s") % ("", "rate/s", "p50 ms", "p99 ms", "CPU us/op", "RSS MB", "ratio", "goal"))

    def line(name, r):
        return cols % ("  " + name[:50], fmt_rate(r["rate"]),
                       "%.2f" % (r["p50_us"] / 1000) if "p50_us" in r else "-",
                       "%.2f" % (r["p99_us"] / 1000) if "p99_us" in r else "-",
                       "%.1f" % (r["cpu_s_per_op"] * 1e6), "%.1f" % (r["peak_rss_kb"] / 1024) if "peak_rss_kb" in r
                       else "-")

    for r in ROWS:
        goal = (">= %gx" % r["goal"]) if isinstance(r["goal"], (int, float)) else (r["goal"] or "-")
        say(r["row"])
        if r["baseline"] and "rate" in r["spn"]:
            ratio = "%7.2fx" % r["ratio"] if r["ratio"] is not None else "%8s" % "-"
            say(line("spn", r["spn"]) + " %s  %s  %s" % (ratio, goal, verdict(r)))
            per_process(r["spn"])
            say(line(r["baseline_name"], r["baseline"]))
            per_process(r["baseline"])
        elif r["baseline"]:
            s_, b = r["spn"], r["baseline"]
            say("  spn: RSS %.1f MB (%d threads); %s: RSS %.1f MB; spn's own: %.1f MB    goal %s  %s" % (
                s_["rss_kb"] / 1024, s_["threads"], r["baseline_name"], b["rss_kb"] / 1024,
                (s_["rss_kb"] - b["rss_kb"]) / 1024, goal, verdict(r)))
        elif "within_1s" in r["spn"]:
            registry_lines(r["spn"], goal, verdict(r))
        else:
            say("  spn: %s    goal %s  %s" % (", ".join("%s %s" % (k, v) for k, v in r["spn"].items()), goal,
                                                verdict(r)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", default="bench.json", help="where to write the figures (default bench.json)")
    ap.add_argument("--seconds", type=int, default=10, help="length of each measured load (default 10)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--crypto-seconds", type=float, default=2, help="per figure of bench_crypto (default 2)")
    ap.add_argument("--members", type=int, default=1000, help="members joining at once (default 1000)")
    ap.add_argument("--members-large", type=int, default=10000,
                    help="members joining at once in the second registry row; 0: no such row (default 10000)")
    ap.add_argument("--revoke", type=int, default=50,
                    help="certificates revoked after the last registry row, for the CRL's size (default 50)")
    ap.add_argument("--admins", type=int, default=10, help="administrators they join below (default 10)")
    ap.add_argument("--only", default="", help="comma-separated rows: crypto,messages,hang,upstream,issuance,memory,registry "
                    "(messages includes hang)")
    a = ap.parse_args()
    need_tools()
    only = set(filter(None, a.only.split(",")))
    work = tempfile.mkdtemp(prefix="spn-bench-")
    try:
        if not only or "crypto" in only:
            crypto(work, a.crypto_seconds)
        if not only or "messages" in only:
            messages(work, a.seconds, a.threads, a.connections, True)
            messages(work, a.seconds, a.threads, a.connections, False)
        if not only or "messages" in only or "hang" in only:
            hang(work, a.seconds, a.threads, 15)
        if not only or "upstream" in only:
            upstream(work, a.seconds, a.threads, a.connections)
        if not only or "memory" in only:
            memory(work)
        if not only or "registry" in only:
            registry(work, a.members, a.admins, 0 if a.members_large else a.revoke)
            if a.members_large:
                registry(work, a.members_large, a.admins, a.revoke)
        if not only or "issuance" in only:
            issuance(work, a.seconds, a.threads, a.connections)
    finally:
        SERVERS.stop_all()
    table()
    with open(a.json, "w") as f:
        json.dump({"machine": {"cpus": os.cpu_count(), "kernel": os.uname().release},
                   "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": ROWS}, f, indent=2)
    say("\nfigures: %s" % os.path.abspath(a.json))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
