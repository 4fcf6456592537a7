#!/usr/bin/env python3
"""Measure the lamp wall in headless Chromium under the demo's load.

  wall_measure.py MOSQUITTO MOSQUITTO_SUB TAPIQ_DEMO WALL_DIR [--consoles N] [--seconds S]
                  [--rates R1,R2,...]

For each rate R (phoneSetLamp requests/s of tapiq-demo through backend=mqtt,
N consoles x 65 lamps), loads the wall, runs the demo for S seconds and
reports per second what the page received and drew: state messages/s,
animation frames/s, the draw time per frame (mean, max), the CPU time of
Chromium's processes over the run, and whether the page caught up: after the
demo ends, the time until every console's drawn seq equals its retained seq
on the broker (read with mosquitto_sub). Prints one line per rate.
WALL_EVAL in the environment: JavaScript evaluated in the page once it has
subscribed (for experiments).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wall_cdp  # noqa: E402


def retained_seqs(msub, port, n):
    out = subprocess.run([msub, "-h", "127.0.0.1", "-p", str(port), "-t", "tapiq/console/+/lamps",
                          "--retained-only", "-C", str(n), "-W", "10", "-F", "%t %p"],
                         capture_output=True, text=True).stdout
    seqs = {}
    for line in out.splitlines():
        topic, _, payload = line.partition(" ")
        c = int(topic.split("/")[2])
        i = payload.index('"seq":') + 6
        seqs[c] = int(payload[i:payload.index(",", i)])
    return seqs


def main():
    args = sys.argv[1:]
    opts = {"--consoles": "500", "--seconds": "20", "--rates": "2000,10000,50000"}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = args[i + 1]
            del args[i:i + 2]
    mosquitto, msub, demo, wall_dir = args
    n, seconds = int(opts["--consoles"]), int(opts["--seconds"])
    skip = wall_cdp.missing([mosquitto, msub, demo])
    if skip:
        print("skipped: " + skip)
        return 77
    for rate in [int(r) for r in opts["--rates"].split(",")]:
        with wall_cdp.Stack(mosquitto, wall_dir) as st:
            br = st.browser(1600, 1000)
            br.open(st.url)
            br.wait("window.wall && window.wall.ready === true", 30, "the page did not subscribe")
            if os.environ.get("WALL_EVAL"):
                br.eval(os.environ["WALL_EVAL"])
            br.call("Performance.enable")
            m0 = {m["name"]: m["value"] for m in br.call("Performance.getMetrics")["metrics"]}
            cpu0 = br.cpu_seconds()
            d = st.spawn([demo, "--consoles", str(n), "--seconds", str(seconds), "--rate", str(rate),
                          "--presses", "0", "--config",
                          "backend=mqtt,url=mqtt://127.0.0.1:%d" % st.mqtt_port], "demo")
            samples = []
            t0 = time.time()
            prev = br.eval("JSON.stringify(window.wall.stats)")
            while d.poll() is None:
                time.sleep(1)
                cur = br.eval("JSON.stringify(window.wall.stats)")
                samples.append((prev, cur))
                prev = cur
            t_end = time.time()
            cpu1 = br.cpu_seconds()
            m1 = {m["name"]: m["value"] for m in br.call("Performance.getMetrics")["metrics"]}
            main = {k: m1[k] - m0[k] for k in ("ScriptDuration", "RecalcStyleDuration",
                                                "LayoutDuration", "TaskDuration")}
            want = retained_seqs(msub, st.mqtt_port, n)
            caught = None
            while time.time() - t_end < 30:
                drawn = br.eval("Object.fromEntries([...window.wall.consoles].map(([k, v]) => [k, v.seq]))")
                if len(want) == n and all(drawn.get(str(c)) == s for c, s in want.items()):
                    caught = time.time() - t_end
                    break
                time.sleep(0.05)
            import json
            steady = [(json.loads(a), json.loads(b)) for a, b in samples[2:-1]] or \
                     [(json.loads(a), json.loads(b)) for a, b in samples]
            msgs = [b["received"] - a["received"] for a, b in steady]
            frames = [b["frames"] - a["frames"] for a, b in steady]
            draw = [(b["drawMs"] - a["drawMs"]) / max(1, b["frames"] - a["frames"]) for a, b in steady]
            last = json.loads(samples[-1][1])
            dur = t_end - t0
            print("rate %6d req/s: page %6.0f state msgs/s (max %d), %4.1f frames/s, draw %.2f ms/frame "
                  "(max %.1f ms), chromium CPU %.1f s in %.1f s (%.0f%%), caught up %s after the demo; "
                  "exit %s; main thread: tasks %.1f s, script %.1f s, style %.1f s, layout %.1f s"
                  % (rate, sum(msgs) / len(msgs), max(msgs), sum(frames) / len(frames),
                               sum(draw) / len(draw), last["drawMsMax"], cpu1 - cpu0, dur,
                               100 * (cpu1 - cpu0) / dur,
                               "in %.2f s" % caught if caught is not None else "NOT within 30 s",
                               d.returncode, main["TaskDuration"], main["ScriptDuration"],
                               main["RecalcStyleDuration"], main["LayoutDuration"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
