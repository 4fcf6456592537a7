#!/usr/bin/env python3
"""The lamp wall in a real browser: Chromium (headless) loads wall/ from a
Mosquitto that serves it, against tapiq's mqtt backend and simulated consoles.

  test_wall.py MOSQUITTO MOSQUITTO_SUB CONSOLE_SIM WALL_APP WALL_DIR [--screenshot PNG]

Checks, each against what the application reads back (wall_app: phoneGetLamp):
  1. after a known pattern (every lamp passed through the six modes in bursts),
     every lamp of every console in the DOM has the mode phoneGetLamp returns;
  2. a second pattern: the DOM follows (highest seq kept, bursts coalesced);
  3. the consoles of a simulator killed with SIGKILL are marked offline after
     their last will, the others stay online; the header counts agree;
  4. the display text in the DOM equals phoneGetDisplay, row by row, and the
     buttons the state lists are drawn with their text;
  5. a mouse click (DevTools Input events) on a console's Ready button
     publishes the press on the wire (a "down" then an "up" for that button)
     and reaches the application as PHONE_BUTTON DOWN then UP with the
     button's id and mode (FEATURE).
Skips (exit 77) with a message when Chromium, Mosquitto or python3-websocket
is missing. Everything listens on 127.0.0.1, on ports picked free at run time;
children are stopped by PID.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wall_cdp  # noqa: E402

NCONS, NLAMPS, NDEAD = 8, 16, 2


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def main():
    args = sys.argv[1:]
    shot = None
    if "--screenshot" in args:
        i = args.index("--screenshot")
        shot = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    mosquitto, msub, sim, app_prog, wall_dir = args
    skip = wall_cdp.missing([mosquitto, msub, sim, app_prog])
    if skip:
        print("skipped: " + skip, flush=True)
        return 77
    with wall_cdp.Stack(mosquitto, wall_dir) as st:
        prefix = "tapiq"
        sim_live = st.sim(sim, 0, NCONS - NDEAD, NLAMPS, "live")
        sim_dead = st.sim(sim, NCONS - NDEAD, NDEAD, NLAMPS, "dead")
        app = st.spawn([app_prog, "backend=mqtt,url=mqtt://127.0.0.1:%d,devices=%d,lamps=%d,"
                        "display=2x12,buttons=feature:none:Ready+dummy+call:none:Line 1"
                        % (st.mqtt_port, NCONS, NLAMPS)], "app", stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE)
        read_until_ok(app)
        br = st.browser()
        br.open(st.url)
        br.wait("window.wall && window.wall.ready === true", 20, "the page did not subscribe")

        for k in (0, 3):
            want = run_pattern(app, k)
            dom = poll_dom(br, want, 20)
            print("pattern %d: %d consoles x %d lamps in the DOM equal phoneGetLamp"
                  % (k, len(dom), NLAMPS), flush=True)

        # 3. Last wills.
        st.kill(sim_dead, signal.SIGKILL)
        deadline = time.time() + 20
        while True:
            off = br.eval("[...document.querySelectorAll('.console.offline')]"
                          ".map(e => Number(e.dataset.console))")
            hdr = br.eval("document.getElementById('n-online').textContent")
            if sorted(off) == list(range(NCONS - NDEAD, NCONS)) and hdr == str(NCONS - NDEAD):
                break
            if time.time() > deadline:
                fail("offline consoles in the DOM: %s, header online %s" % (off, hdr))
            time.sleep(0.1)
        print("consoles %s marked offline after their last will; header online %s"
              % (off, hdr), flush=True)

        # 4. Display and buttons.
        app.stdin.write(b"display\n")
        app.stdin.flush()
        want = {}
        for line in read_until_ok(app):
            f = line.split()
            want[int(f[1])] = bytes.fromhex(f[2]).decode("latin-1")
        dom = br.eval("Object.fromEntries([...document.querySelectorAll('#wall .console')].map("
                      "t => [t.dataset.console, t.querySelector('.display').textContent]))")
        dom = {int(k): v.replace("\n", "") for k, v in dom.items()}
        if dom != want or any(len(v) != 24 for v in want.values()):
            fail("display text in the DOM %s, phoneGetDisplay %s" % (dom, want))
        labels = br.eval("[...document.querySelectorAll('#wall .console[data-console=\"2\"] "
                         ".buttons button')].map(b => [Number(b.dataset.button), b.textContent])")
        if labels != [[0, "Ready"], [2, "Line 1"]]:
            fail("buttons of console 2 in the DOM: %s" % labels)
        print("display text equals phoneGetDisplay on %d consoles; buttons %s" % (len(dom), labels),
              flush=True)

        # 5. A click on console 2's Ready button (position 0): down, then up,
        # on the wire and as PHONE_BUTTON.
        sub = st.spawn([msub, "-h", "127.0.0.1", "-p", str(st.mqtt_port), "-v", "-q", "1",
                        "-C", "2", "-W", "20", "-t", prefix + "/console/+/button"], "sub",
                       stdout=subprocess.PIPE)
        time.sleep(0.5)  # mosquitto_sub has subscribed
        br.click("#wall .console[data-console='2'] .buttons button[data-button='0']")
        out, _ = sub.communicate(timeout=30)
        lines = out.decode().splitlines()
        want = [prefix + "/console/2/button " + json.dumps({"button": 0, "state": s},
                                                            separators=(",", ":"))
                for s in ("down", "up")]
        if lines != want:
            fail("button press on the wire: %s, wanted %s" % (lines, want))
        app.stdin.write(b"buttons 2\n")
        app.stdin.flush()
        events = read_until_ok(app)
        # console 2, button 0, PHONEBUTTONMODE_FEATURE, DOWN (2) then UP (1)
        if events != ["button 2 0 4 2", "button 2 0 4 1"]:
            fail("PHONE_BUTTON messages %s" % events)
        print("click on console 2's Ready button: %s; PHONE_BUTTON %s" % (lines, events),
              flush=True)

        if shot:
            br.screenshot(shot)
            print("screenshot: " + shot, flush=True)
        app.stdin.write(b"quit\n")
        app.stdin.flush()
        if app.wait(timeout=30) != 0:
            fail("wall_app exit status %d" % app.returncode)
        st.kill(sim_live, signal.SIGTERM)
    print("ok", flush=True)
    return 0


def read_until_ok(app):
    lines = []
    while True:
        line = app.stdout.readline().decode()
        if not line:
            fail("wall_app ended: %s" % lines)
        line = line.strip()
        if line == "ok":
            return lines
        if line.startswith("error"):
            fail("wall_app: " + line)
        lines.append(line)


def run_pattern(app, k):
    app.stdin.write(b"pattern %d\n" % k)
    app.stdin.flush()
    want = {}
    for line in read_until_ok(app):
        f = line.split()
        if f[0] == "lamps":
            want[int(f[1])] = f[2:]
    if len(want) != NCONS or any(len(v) != NLAMPS for v in want.values()):
        fail("wall_app printed %s" % want)
    return want


def poll_dom(br, want, seconds):
    deadline = time.time() + seconds
    while True:
        dom = br.eval("Object.fromEntries([...document.querySelectorAll('#wall .console')].map("
                      "t => [t.dataset.console, [...t.querySelectorAll('.lamp')]"
                      ".map(l => l.dataset.mode)]))")
        dom = {int(k): v for k, v in dom.items()}
        if dom == want:
            return dom
        if time.time() > deadline:
            bad = [c for c in want if dom.get(c) != want[c]]
            fail("DOM differs from phoneGetLamp on consoles %s: %s vs %s"
                 % (bad, dom.get(bad[0]), want[bad[0]]))
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
