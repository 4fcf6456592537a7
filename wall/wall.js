/* wall.js - the lamp wall: every console's state, live, from the MQTT broker.
 *
 * Wire format (the README's "Wire format"; prefix default "tapiq", or
 * ?prefix=NAME in the page address):
 *   <prefix>/console/<id>/lamps   retained, from tapiq: the whole console state,
 *       {"v":2,"console":<id>,"seq":<n>,"lamps":[mode names...]} plus, when the
 *       console has them, "display" (rows of text) and "buttons"
 *       ([{"id":n,"mode":"feature","function":n,"text":"..."}...]); the other
 *       members (ring, hookswitch ...) are not drawn.
 *   <prefix>/console/<id>/online  retained: "1", "0" (last will), or empty ("1").
 *   <prefix>/console/<id>/button  published here on a click: {"button":<n>,"state":"down"}
 *       then {"button":<n>,"state":"up"} (QoS 1, not retained).
 *
 * Coalescing: a message only replaces the console's pending state (kept when
 * its seq is higher than both the pending and the drawn one); one
 * requestAnimationFrame callback draws every console that changed since the
 * last frame, touching only the lamps whose mode changed. A retained message
 * is the whole state, so dropping intermediate ones loses nothing.
 *
 * window.wall exposes the model and counters (for tests and measurements):
 *   consoles: Map id -> {seq, lamps[], display (rows joined by "\n"), buttons[], online}
 *   stats: {received, stale, malformed, applied, frames, drawMs}
 *   ready: true once subscribed.
 */
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const prefix = params.get("prefix") || "tapiq";
  const url = params.get("ws") || ((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/mqtt");
  const MODES = new Set(["dummy", "off", "steady", "wink", "flash", "flutter", "brokenflutter", "unknown"]);
  const TOPIC = new RegExp("^" + prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") +
                           "/console/(0|[1-9][0-9]{0,6})/(lamps|online)$");

  const wallEl = document.getElementById("wall");
  const $ = (id) => document.getElementById(id);
  const consoles = new Map();   /* id -> model (drawn state) */
  const pending = new Map();    /* id -> {state?, online?} not yet drawn */
  const stats = { received: 0, stale: 0, malformed: 0, applied: 0, frames: 0, drawMs: 0, drawMsMax: 0 };
  let lit = 0, offline = 0, frameScheduled = false, client = null;
  let filter = () => true;
  const recent = [];            /* [time ms, received] samples for updates/s */

  function model(id) {
    let c = consoles.get(id);
    if (c) return c;
    c = { id, seq: -1, lamps: [], display: "", buttons: [], online: true, el: null, lampEls: [] };
    consoles.set(id, c);
    c.el = document.createElement("div");
    c.el.className = "console";
    c.el.dataset.console = String(id);
    c.el.innerHTML = '<div class="title">console ' + id + '</div><div class="display"></div>' +
                     '<div class="lamps"></div><div class="buttons"></div>';
    /* Keep tiles in id order: insert before the first tile with a larger id. */
    let next = null;
    for (const [oid, o] of consoles) if (oid > id && (!next || oid < Number(next.dataset.console))) next = o.el;
    wallEl.insertBefore(c.el, next);
    c.el.classList.toggle("hidden", !filter(c));
    $("n-consoles").textContent = consoles.size;
    return c;
  }

  function schedule() {
    if (!frameScheduled) { frameScheduled = true; requestAnimationFrame(draw); }
  }

  function onMessage(topic, payload) {
    stats.received++;
    const m = TOPIC.exec(topic);
    if (!m) { stats.malformed++; return; }
    const id = Number(m[1]);
    const text = new TextDecoder().decode(payload);
    let p = pending.get(id);
    if (m[2] === "online") {
      if (text !== "0" && text !== "1" && text !== "") { stats.malformed++; return; }
      if (!p) pending.set(id, p = {});
      p.online = text !== "0";
      schedule();
      return;
    }
    let s;
    try { s = JSON.parse(text); } catch (e) { stats.malformed++; return; }
    if (!s || s.console !== id || !Number.isSafeInteger(s.seq) || s.seq < 0 || !Array.isArray(s.lamps) ||
        !s.lamps.every((x) => MODES.has(x))) { stats.malformed++; return; }
    const drawn = consoles.get(id);
    if ((drawn && s.seq <= drawn.seq) || (p && p.state && s.seq <= p.state.seq)) { stats.stale++; return; }
    if (!p) pending.set(id, p = {});
    p.state = s;
    schedule();
  }

  /* The console's buttons, labelled with their text (or id); a lamp that
   * belongs to a button shows its text as its tooltip. */
  function drawButtons(c, buttons) {
    const box = c.el.querySelector(".buttons");
    box.textContent = "";
    for (const e of c.lampEls) e.classList.remove("button");
    for (const b of buttons) {
      if (!b || !Number.isInteger(b.id)) continue;
      const label = typeof b.text === "string" && b.text ? b.text : String(b.id);
      const e = document.createElement("button");
      e.dataset.button = String(b.id);
      e.textContent = label;
      e.title = (b.mode || "button") + " " + b.id;
      box.appendChild(e);
      const lamp = c.lampEls[b.id];
      if (lamp) { lamp.classList.add("button"); lamp.title = "console " + c.id + " button " + b.id + ": " + label; }
    }
    c.buttons = buttons;
  }

  function apply(c, s) {
    const box = c.el.querySelector(".lamps");
    for (let i = c.lampEls.length; i < s.lamps.length; i++) {
      const e = document.createElement("i");
      e.className = "lamp m-off";
      e.dataset.lamp = String(i);
      e.dataset.mode = "off";
      e.title = "console " + c.id + " button " + i;
      box.appendChild(e);
      c.lampEls.push(e);
      c.lamps.push("off");
    }
    for (let i = 0; i < s.lamps.length; i++) {
      const was = c.lamps[i], now = s.lamps[i];
      if (was === now) continue;
      lit += (now !== "off" && now !== "dummy" ? 1 : 0) - (was !== "off" && was !== "dummy" ? 1 : 0);
      c.lamps[i] = now;
      /* The class selects the style (and the blink: wall.css); data-mode is
       * the same for readers of the DOM. */
      c.lampEls[i].classList.replace("m-" + was, "m-" + now);
      c.lampEls[i].dataset.mode = now;
    }
    const display = Array.isArray(s.display) ? s.display.join("\n") : "";
    if (display !== c.display) { c.display = display; c.el.querySelector(".display").textContent = display; }
    const buttons = Array.isArray(s.buttons) ? s.buttons : [];
    if (JSON.stringify(buttons) !== JSON.stringify(c.buttons)) drawButtons(c, buttons);
    c.seq = s.seq;
    stats.applied++;
  }

  function draw() {
    frameScheduled = false;
    const t0 = performance.now();
    for (const [id, p] of pending) {
      const c = model(id);
      if (p.state) apply(c, p.state);
      if (p.online !== undefined && p.online !== c.online) {
        c.online = p.online;
        offline += c.online ? -1 : 1;
        c.el.classList.toggle("offline", !c.online);
      }
      if (filterByState) c.el.classList.toggle("hidden", !filter(c));
    }
    pending.clear();
    stats.frames++;
    const ms = performance.now() - t0;
    stats.drawMs += ms;
    if (ms > stats.drawMsMax) stats.drawMsMax = ms;
    $("n-online").textContent = consoles.size - offline;
    $("n-lit").textContent = lit;
  }

  /* Filter: comma-separated ids and ranges ("0-99,120"), and the words
   * "offline", "online", "lit"; empty shows everything. */
  let filterByState = false; /* words: re-filter a console whenever it is drawn */
  function setFilter(text) {
    const ranges = [], words = new Set();
    for (const part of text.split(",").map((x) => x.trim()).filter(Boolean)) {
      const r = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (r) ranges.push([Number(r[1]), Number(r[2] === undefined ? r[1] : r[2])]);
      else words.add(part.toLowerCase());
    }
    filter = (c) => (ranges.length === 0 || ranges.some(([a, b]) => c.id >= a && c.id <= b)) &&
                    (!words.has("offline") || !c.online) && (!words.has("online") || c.online) &&
                    (!words.has("lit") || c.lamps.some((m) => m !== "off" && m !== "dummy"));
    filterByState = words.size > 0;
    for (const c of consoles.values()) c.el.classList.toggle("hidden", !filter(c));
  }
  $("filter").addEventListener("input", (e) => setFilter(e.target.value));
  $("zoom").addEventListener("input", (e) =>
    document.documentElement.style.setProperty("--lamp", e.target.value + "px"));

  /* A click on a lamp (a button-lamp: lamp n is button n's lamp) or on a
   * button of the console's state presses that button: down, then up. */
  function press(id, button) {
    const topic = prefix + "/console/" + id + "/button";
    client.publish(topic, JSON.stringify({ button, state: "down" }), { qos: 1 });
    client.publish(topic, JSON.stringify({ button, state: "up" }), { qos: 1 });
  }
  wallEl.addEventListener("click", (e) => {
    const t = e.target.closest("[data-lamp],[data-button]");
    const tile = t && t.closest(".console");
    if (!tile || !client) return;
    const button = Number(t.dataset.button !== undefined ? t.dataset.button : t.dataset.lamp);
    press(Number(tile.dataset.console), button);
    t.classList.add("pressed");
    setTimeout(() => t.classList.remove("pressed"), 150);
  });

  /* The cadences of wall.css: every 100 ms, the modes that are dark now. */
  let tick = 0;
  const legend = document.querySelector(".legend");
  setInterval(() => {
    const t = tick++ % 10; /* 100 ms steps of the 1 s period */
    const dark = { wink: t >= 8, flash: t >= 5, flutter: t % 2 === 1, brokenflutter: t >= 5 || t % 2 === 1 };
    for (const m in dark) {
      wallEl.classList.toggle("dark-" + m, dark[m]);
      legend.classList.toggle("dark-" + m, dark[m]);
    }
  }, 100);

  setInterval(() => {
    const now = performance.now();
    recent.push([now, stats.received]);
    while (recent.length > 2 && now - recent[0][0] > 2000) recent.shift();
    const [t0, r0] = recent[0];
    $("n-ups").textContent = now > t0 ? Math.round((stats.received - r0) * 1000 / (now - t0)) : 0;
  }, 500);

  client = mqtt.connect(url, { clientId: "tapiq-wall-" + Math.random().toString(16).slice(2, 10),
                               reconnectPeriod: 1000, clean: true });
  client.on("connect", () => {
    $("conn").textContent = "connected";
    client.subscribe([prefix + "/console/+/lamps", prefix + "/console/+/online"], { qos: 0 }, (err) => {
      if (!err) window.wall.ready = true;
    });
  });
  client.on("close", () => { $("conn").textContent = "disconnected"; });
  client.on("message", onMessage);
  window.wall = { consoles, stats, ready: false, press, setFilter };
})();
