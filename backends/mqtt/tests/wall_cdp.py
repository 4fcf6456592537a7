"""Helpers of the lamp-wall browser tests: a Mosquitto serving wall/ over
WebSockets (plus a plain MQTT listener), child processes stopped by PID, and
headless Chromium driven through the DevTools protocol (python3-websocket).
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

try:
    import websocket  # Debian: python3-websocket
except ImportError:
    websocket = None

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path():
    for n in CHROMIUM_NAMES:
        p = shutil.which(n)
        if p:
            return p
    return None


def missing(progs):
    """Why the browser tests cannot run here, or None."""
    for p in progs:
        if not p or not os.access(p, os.X_OK):
            return "%s is not installed" % p
    if not chromium_path():
        return "chromium is not installed (scripts/deps.sh installs it)"
    if websocket is None:
        return "python3-websocket is not installed for %s (scripts/deps.sh installs it)" % os.sys.executable
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("FAIL: port %d did not open" % port)


class Stack:
    """A temporary directory, a Mosquitto with a plain MQTT listener and a
    WebSockets listener serving @wall_dir, and the children started here
    (all stopped by PID on exit)."""

    def __init__(self, mosquitto, wall_dir):
        self.dir = tempfile.mkdtemp(prefix="tapiq-wall-")
        os.chmod(self.dir, 0o755)  # a broker started as root reads here as its own user
        self.children = []
        self.mqtt_port = free_port()
        self.ws_port = free_port()
        while self.ws_port == self.mqtt_port:
            self.ws_port = free_port()
        self.url = "http://127.0.0.1:%d/" % self.ws_port
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("per_listener_settings false\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 100000\n"
                    "listener %d 127.0.0.1\nlistener %d 127.0.0.1\nprotocol websockets\n"
                    "http_dir %s\n" % (self.mqtt_port, self.ws_port, os.path.abspath(wall_dir)))
        self.spawn([mosquitto, "-c", conf], "mosquitto")
        wait_port(self.mqtt_port)
        wait_port(self.ws_port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.children):
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(self, argv, name, stdin=None, stdout=None):
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=stdin, stdout=stdout if stdout else log, stderr=log)
        self.children.append(p)
        return p

    def kill(self, p, sig):
        p.send_signal(sig)
        p.wait()

    def sim(self, prog, first, n, lamps, name):
        ready = os.path.join(self.dir, name + ".ready")
        p = self.spawn([prog, "--url", "mqtt://127.0.0.1:%d" % self.mqtt_port, "--first", str(first),
                        "--consoles", str(n), "--lamps", str(lamps), "--ready-file", ready], name)
        deadline = time.time() + 20
        while not os.path.exists(ready):
            if time.time() > deadline or p.poll() is not None:
                raise SystemExit("FAIL: console simulator %s not ready" % name)
            time.sleep(0.05)
        return p

    def browser(self, width=1280, height=900):
        b = Browser(self, width, height)
        return b


class Browser:
    """Headless Chromium with one page, driven through the DevTools protocol."""

    def __init__(self, stack, width, height):
        prof = os.path.join(stack.dir, "chromium-profile")
        self.proc = stack.spawn([chromium_path(), "--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--no-first-run", "--no-default-browser-check",
                                 "--disable-dev-shm-usage", "--remote-debugging-port=0",
                                 "--remote-allow-origins=*", "--user-data-dir=" + prof,
                                 "--window-size=%d,%d" % (width, height), "about:blank"],
                                "chromium", stdout=None)
        log = os.path.join(stack.dir, "chromium.log")
        deadline = time.time() + 60
        port = None
        while port is None:
            with open(log, errors="replace") as f:
                m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", f.read())
            if m:
                port = int(m.group(1))
            elif time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("FAIL: chromium did not start:\n" + open(log).read()[-2000:])
            else:
                time.sleep(0.1)
        pages = []
        while not pages:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if not pages:
                time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise SystemExit("FAIL: %s: %s" % (method, msg["error"]))
                return msg["result"]

    def open(self, url):
        self.call("Page.enable")
        self.call("Page.navigate", url=url)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise SystemExit("FAIL: %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, seconds, what):
        deadline = time.time() + seconds
        while not self.eval(expr):
            if time.time() > deadline:
                raise SystemExit("FAIL: " + what)
            time.sleep(0.1)

    def click(self, selector):
        """A real mouse click (pressed, released) at the centre of @selector."""
        r = self.eval("(() => { const e = document.querySelector(%s); if (!e) return null;"
                      " e.scrollIntoView({block: 'center'}); const b = e.getBoundingClientRect();"
                      " return [b.x + b.width / 2, b.y + b.height / 2]; })()" % json.dumps(selector))
        if not r:
            raise SystemExit("FAIL: no element %s to click" % selector)
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=t, x=r[0], y=r[1], button="left", clickCount=1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def cpu_seconds(self):
        """CPU time (user + system) of Chromium's processes alive now."""
        tick = os.sysconf("SC_CLK_TCK")
        tree, total = {self.proc.pid}, 0
        stats = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        s = f.read()
                except OSError:
                    continue
                f = s[s.rindex(")") + 2:].split()
                stats.append((int(d), int(f[1]), int(f[11]) + int(f[12])))
        grew = True
        while grew:
            grew = False
            for pid, ppid, _ in stats:
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        for pid, _, t in stats:
            if pid in tree:
                total += t
        return total / tick
