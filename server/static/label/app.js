// The labeling page: queue, waveform, playback, segment editing, saving with version checks, progress.
// Plain browser JavaScript, no build step. The server is the only source of truth: every edit is kept in
// `state.segments` until a save returns 200; a 409 shows the colleague's version beside the unsaved edit.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = {
  me: null,          // {labeler, intents, flags, statuses}
  queue: [],         // queue rows
  item: null,        // the item as last loaded or saved (its version is what a save is made from)
  segments: [],      // the edit in progress
  flags: [],
  selected: 0,       // index into segments
  dirty: false,
  audio: null,       // AudioBuffer
  ctx: null,         // AudioContext
  source: null,      // playing AudioBufferSourceNode
  playFrom: 0,       // audio seconds where the current playback started
  playStartedAt: 0,  // ctx.currentTime when it started
  playUntil: null,   // audio seconds where it stops
  position: 0,       // playhead when paused (seconds)
  peaks: null,       // [min, max] per canvas column
  drag: null,        // {index, edge} while dragging a boundary
  nextPressed: false,
  caret: null,       // {index, at}: where the cursor last was in a segment's text (Split cuts the text there)
};

async function api(path, options = {}) {
  const response = await fetch("/label/api" + path, {credentials: "same-origin", ...options});
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new Error(typeof body === "object" ? detailText(body.detail) : body);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

function detailText(detail) {
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  return String(detail);
}

function say(text, kind = "info") {
  const box = $("#message");
  box.textContent = text;
  box.className = kind;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

const fmt = (x) => (x === null || x === undefined ? "–" : Number(x).toFixed(2));

// ---- queue -------------------------------------------------------------------------------------------------

async function loadQueue() {
  const params = new URLSearchParams();
  for (const [key, id] of [["status", "#filter-status"], ["intent", "#filter-intent"], ["since", "#filter-since"],
                           ["until", "#filter-until"]]) {
    if ($(id).value) params.set(key, $(id).value);
  }
  state.queue = await api("/items?" + params);
  const list = $("#queue");
  list.replaceChildren(...state.queue.map((row) => el("li", {
    class: "queue-item" + (state.item && row.id === state.item.id ? " current" : ""), "data-id": row.id,
    onclick: () => openItem(row.id)},
    el("div", {class: "queue-title"}, `#${row.id} ${row.name}`),
    el("div", {class: "queue-meta"},
       `${row.status} · priority ${fmt(row.priority)} · STT ${fmt(row.stt_confidence)} · NLU ${fmt(row.nlu_confidence)}`),
    el("div", {class: "queue-text"}, row.text || "(no text)"))));
  if (!state.queue.length) list.replaceChildren(el("li", {class: "empty"}, "nothing matches these filters"));
}

async function nextItem() {
  if (state.dirty && !state.nextPressed) {
    state.nextPressed = true;
    say("Unsaved changes: save (Ctrl+S), or press Next again to drop them.", "warn");
    return;
  }
  await loadQueue();
  const rows = state.queue.filter((row) => !state.item || row.id !== state.item.id);
  if (!rows.length) { say("The queue is empty for these filters."); return; }
  await openItem(rows[0].id);
}

// ---- one item ----------------------------------------------------------------------------------------------

async function openItem(id) {
  stop();
  const {item, history} = await api(`/items/${id}`);
  setItem(item);
  renderHistory(history);
  $("#editor").hidden = false;
  document.querySelectorAll(".queue-item").forEach((li) => li.classList.toggle("current", Number(li.dataset.id) === id));
  say(`Item ${id} loaded (version ${item.version}).`);
  await loadAudio(id);
}

function setItem(item) {
  state.item = item;
  state.caret = null;
  state.segments = item.segments.map((s) => ({...s}));
  state.flags = [...item.flags];
  state.selected = Math.min(state.selected, Math.max(0, state.segments.length - 1));
  state.dirty = false;
  state.nextPressed = false;
  $("#status").value = item.status === "todo" ? "labeled" : item.status;
  $("#conflict").hidden = true;
  renderHead();
  renderFlags();
  renderSegments();
  draw();
}

function renderHead() {
  const it = state.item;
  const meta = it.metadata || {};
  $("#item-head").replaceChildren(
    el("h2", {}, `#${it.id} ${meta.name || meta.session_id || it.source_ref}`),
    el("p", {class: "meta"},
      `${it.source} · ${it.sample_rate} Hz · ${fmt(it.duration_s)} s · recorded ${it.recorded_at} · status ${it.status}` +
      ` · version ${it.version} by ${it.updated_by} · STT ${fmt(it.stt_confidence)} · NLU ${fmt(it.nlu_confidence)}` +
      ` · disagreement ${fmt(it.disagreement)}` +
      (meta.live_transcript ? ` · live call heard “${meta.live_transcript}” as ${meta.live_intent}` : "")));
}

function renderFlags() {
  const box = $("#flags");
  box.replaceChildren(el("legend", {}, "Flags"), ...state.me.flags.map((flag) => el("label", {},
    el("input", {type: "checkbox", id: `flag-${flag}`, checked: state.flags.includes(flag),
                 onchange: (e) => { state.flags = state.me.flags.filter((f) => f === flag ? e.target.checked
                                                                                : state.flags.includes(f)); touch(); }}),
    " " + flag)));
}

function intentSelect(segment, index) {
  const select = el("select", {class: "intent", "data-index": index,
                               onchange: (e) => { segment.intent = e.target.value || null; touch(); }},
    el("option", {value: ""}, "— none —"),
    ...state.me.intents.map((name) => el("option", {value: name, selected: segment.intent === name}, name)));
  return select;
}

function suggestionCell(segment, index) {
  const cell = el("div", {class: "suggestion", "data-index": index});
  if (!segment.suggested_intent) { cell.append("model: –"); return cell; }
  cell.append(`model: ${segment.suggested_intent} (${fmt(segment.suggested_confidence)}) `,
    el("button", {class: "use", title: "use the model's intent", onclick: () => {
      segment.intent = segment.suggested_intent;
      document.querySelector(`select.intent[data-index="${index}"]`).value = segment.intent;
      touch();
    }}, "use"));
  return cell;
}

function renderSegments() {
  const body = $("#segments tbody");
  body.replaceChildren(...state.segments.map((segment, i) => {
    const time = (edge) => el("input", {type: "number", step: "0.01", min: "0", class: edge, value: segment[edge].toFixed(2),
      oninput: (e) => { if (e.target.value !== "" && Number.isFinite(Number(e.target.value))) {
        segment[edge] = Number(e.target.value); touch(); draw(); } }});
    const text = el("textarea", {class: "text", rows: 2, lang: "ko", "data-index": i,
      onfocus: () => select(i), oninput: (e) => { segment.text = e.target.value; touch(); },
      onblur: (e) => { state.caret = {index: i, at: e.target.selectionStart}; },
      onchange: () => suggest(segment)});
    text.value = segment.text;
    return el("tr", {class: i === state.selected ? "selected" : "", "data-index": i, onclick: () => select(i)},
      el("td", {}, String(i + 1)), el("td", {}, time("start")), el("td", {}, time("end")),
      el("td", {}, text, el("div", {class: "stt"}, `STT confidence ${fmt(segment.stt_confidence)}`)),
      el("td", {}, intentSelect(segment, i), suggestionCell(segment, i)),
      el("td", {class: "row-tools"},
        el("button", {class: "play-segment", title: "play this segment", onclick: (e) => { e.stopPropagation(); select(i); replay(); }}, "▶"),
        el("button", {class: "delete", title: "delete this segment",
                      onclick: (e) => { e.stopPropagation(); removeSegment(i); }}, "✕")));
  }));
}

function renderHistory(history) {
  $("#history").replaceChildren(...history.slice().reverse().map((c) => el("li", {},
    `v${c.version} · ${c.labeler} · ${c.at} · ${c.status}: ${c.changes.join("; ") || "no change"}`)));
}

function select(i) {
  if (i === state.selected) return;
  state.selected = i;
  document.querySelectorAll("#segments tbody tr").forEach((tr) => tr.classList.toggle("selected", Number(tr.dataset.index) === i));
  draw();
}

function touch() {
  state.dirty = true;
  state.nextPressed = false;
  $("#save").classList.add("dirty");
}

async function suggest(segment) {
  if (!segment.text.trim()) return;
  try {
    const answer = await api("/suggest", {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify({text: segment.text})});
    segment.suggested_intent = answer.intent;
    segment.suggested_confidence = answer.confidence;
    const i = state.segments.indexOf(segment);  // only this row's suggestion changes: typing elsewhere goes on
    const cell = document.querySelector(`.suggestion[data-index="${i}"]`);
    if (i >= 0 && cell) cell.replaceWith(suggestionCell(segment, i));
  } catch (error) {
    say(`No suggestion: ${error.message}`, "warn");
  }
}

// ---- split, merge, add, delete -----------------------------------------------------------------------------

function splitSegment() {
  const s = state.segments[state.selected];
  if (!s) return;
  const here = position();
  const at = here > s.start + 0.05 && here < s.end - 0.05 ? here : (s.start + s.end) / 2;
  const area = document.querySelector(`#segments textarea[data-index="${state.selected}"]`);
  const caret = document.activeElement === area ? {index: state.selected, at: area.selectionStart} : state.caret;
  let cut = caret && caret.index === state.selected ? caret.at : -1;
  if (cut < 0) {  // no caret in the text: cut at the space nearest the time's share of the text
    const share = Math.round(s.text.length * (at - s.start) / (s.end - s.start));
    const spaces = [...s.text.matchAll(/ /g)].map((m) => m.index);
    cut = spaces.length ? spaces.reduce((a, b) => (Math.abs(b - share) < Math.abs(a - share) ? b : a)) : share;
  }
  const second = {...s, start: round(at), text: s.text.slice(cut).trim(), intent: s.intent,
                  suggested_intent: null, suggested_confidence: null};
  s.end = round(at);
  s.text = s.text.slice(0, cut).trim();
  state.segments.splice(state.selected + 1, 0, second);
  state.caret = null;
  touch();
  renderSegments();
  draw();
  suggest(s);
  suggest(second);
}

function mergeSegment() {
  const i = state.selected;
  const a = state.segments[i];
  const b = state.segments[i + 1];
  if (!a || !b) { say("There is no next segment to merge with.", "warn"); return; }
  a.end = b.end;
  a.text = [a.text, b.text].filter((t) => t.trim()).join(" ");
  a.intent = a.intent || b.intent;
  state.segments.splice(i + 1, 1);
  touch();
  renderSegments();
  draw();
  suggest(a);
}

function addSegment() {
  const at = position();
  const duration = state.item.duration_s;
  const after = state.segments.filter((s) => s.end <= at).length;
  const start = round(Math.min(at, Math.max(0, duration - 0.1)));
  const limit = state.segments[after] ? state.segments[after].start : duration;
  if (limit - start < 0.05 || state.segments.some((s) => s.start <= at && at < s.end)) {
    say("Move the playhead to a gap between segments to add one there.", "warn");
    return;
  }
  state.segments.splice(after, 0, {start, end: round(Math.min(limit, start + 1)), text: "", intent: null,
                                   suggested_intent: null, suggested_confidence: null, stt_confidence: null});
  state.selected = after;
  touch();
  renderSegments();
  draw();
}

function removeSegment(i) {
  state.segments.splice(i, 1);
  state.selected = Math.max(0, Math.min(state.selected, state.segments.length - 1));
  touch();
  renderSegments();
  draw();
}

const round = (x) => Math.round(x * 1000) / 1000;

// ---- save and conflicts ------------------------------------------------------------------------------------

async function save(fromVersion = state.item.version) {
  const body = {version: fromVersion, segments: state.segments, flags: state.flags, status: $("#status").value};
  try {
    const {item} = await api(`/items/${state.item.id}`, {method: "PUT", headers: {"Content-Type": "application/json"},
                                                        body: JSON.stringify(body)});
    setItem(item);
    const {history} = await api(`/items/${item.id}`);
    renderHistory(history);
    $("#save").classList.remove("dirty");
    say(`Saved: item ${item.id} is at version ${item.version}.`, "ok");
    loadQueue();
  } catch (error) {
    if (error.status === 409) showConflict(error.body);
    else say(`Not saved: ${error.message}`, "error");
  }
}

function showConflict(body) {
  const theirs = body.current;
  const box = $("#conflict");
  box.replaceChildren(
    el("p", {}, body.detail),
    el("table", {},
      el("tr", {}, el("th", {}, "#"), el("th", {}, `theirs (v${theirs.version}, ${theirs.updated_by})`), el("th", {}, "yours (unsaved)")),
      ...Array.from({length: Math.max(theirs.segments.length, state.segments.length)}, (_, i) => el("tr", {},
        el("td", {}, String(i + 1)), el("td", {}, describe(theirs.segments[i])), el("td", {}, describe(state.segments[i]))))),
    el("button", {id: "take-theirs", onclick: () => { setItem(theirs); say(`Loaded version ${theirs.version}.`); }},
       "Drop mine, load theirs"),
    el("button", {id: "keep-mine", onclick: () => save(theirs.version)}, `Save mine over version ${theirs.version}`));
  box.hidden = false;
  say("Not saved: someone saved this item after you opened it. Compare and choose below.", "error");
}

const describe = (s) => (s ? `${fmt(s.start)}–${fmt(s.end)} ${s.text} [${s.intent || "–"}]` : "");

// ---- audio ------------------------------------------------------------------------------------------------

async function loadAudio(id) {
  state.audio = null;
  state.peaks = null;
  state.position = 0;
  draw();
  const response = await fetch(`/label/api/items/${id}/audio`, {credentials: "same-origin"});
  if (!response.ok) { say(`No audio: ${(await response.json()).detail}`, "error"); return; }
  const bytes = await response.arrayBuffer();
  state.ctx = state.ctx || new AudioContext();
  const buffer = await state.ctx.decodeAudioData(bytes);
  if (!state.item || state.item.id !== id) return;  // another item was opened meanwhile
  state.audio = buffer;
  state.peaks = peaks(buffer, $("#wave").width);
  $("#wave").dataset.loaded = "true";
  $("#wave").dataset.duration = String(state.item.duration_s);
  draw();
}

function peaks(buffer, columns) {
  const data = buffer.getChannelData(0);
  const per = Math.max(1, Math.floor(data.length / columns));
  const out = [];
  for (let c = 0; c < columns; c++) {
    let lo = 0, hi = 0;
    for (let i = c * per; i < Math.min(data.length, (c + 1) * per); i++) {
      if (data[i] < lo) lo = data[i];
      if (data[i] > hi) hi = data[i];
    }
    out.push([lo, hi]);
  }
  return out;
}

function position() {
  if (state.source) return Math.min(state.playUntil, state.playFrom + state.ctx.currentTime - state.playStartedAt);
  return state.position;
}

async function play(from, until) {
  if (!state.audio) return;
  stop();
  await state.ctx.resume();
  const source = state.ctx.createBufferSource();
  source.buffer = state.audio;
  source.connect(state.ctx.destination);
  state.playFrom = from;
  state.playUntil = until;
  state.playStartedAt = state.ctx.currentTime;
  source.onended = () => {
    if (state.source !== source) return;
    state.position = until;
    state.source = null;
    document.body.dataset.playing = "false";
    draw();
  };
  source.start(0, from, until - from);
  state.source = source;
  document.body.dataset.playing = "true";
  requestAnimationFrame(tick);
}

function stop() {
  if (!state.source) return;
  state.position = position();
  const source = state.source;
  state.source = null;
  source.stop();
  document.body.dataset.playing = "false";
}

function togglePlay() {
  if (state.source) { stop(); draw(); return; }
  const end = state.audio ? state.audio.duration : 0;
  play(state.position >= end - 0.01 ? 0 : state.position, end);
}

function replay() {
  const s = state.segments[state.selected];
  if (s) play(s.start, Math.min(s.end, state.audio ? state.audio.duration : s.end));
}

function tick() {
  draw();
  if (state.source) requestAnimationFrame(tick);
}

// ---- waveform ---------------------------------------------------------------------------------------------

function draw() {
  const canvas = $("#wave");
  const g = canvas.getContext("2d");
  const {width, height} = canvas;
  g.clearRect(0, 0, width, height);
  if (!state.item) return;
  const duration = state.item.duration_s;
  const x = (t) => (t / duration) * width;
  state.segments.forEach((s, i) => {
    g.fillStyle = i === state.selected ? "rgba(255, 196, 0, 0.35)" : "rgba(80, 140, 255, 0.18)";
    g.fillRect(x(s.start), 0, x(s.end) - x(s.start), height);
    g.fillStyle = "#1d4ed8";
    g.fillRect(x(s.start) - 1, 0, 2, height);
    g.fillRect(x(s.end) - 1, 0, 2, height);
    g.fillStyle = "#111";
    g.font = "12px sans-serif";
    g.fillText(String(i + 1), x(s.start) + 4, 14);
  });
  if (state.peaks) {
    g.fillStyle = "#334155";
    const middle = height / 2;
    state.peaks.forEach(([lo, hi], c) => g.fillRect(c, middle - hi * middle, 1, Math.max(1, (hi - lo) * middle)));
  } else {
    g.fillStyle = "#64748b";
    g.fillText("loading audio…", 10, height / 2);
  }
  const here = position();
  g.fillStyle = "#dc2626";
  g.fillRect(x(here), 0, 2, height);
  $("#position").textContent = `${here.toFixed(2)} s / ${duration.toFixed(2)} s`;
}

function timeAt(event) {
  const canvas = $("#wave");
  const rect = canvas.getBoundingClientRect();
  return Math.max(0, Math.min(state.item.duration_s, ((event.clientX - rect.left) / rect.width) * state.item.duration_s));
}

function edgeNear(event) {
  const canvas = $("#wave");
  const perPixel = state.item.duration_s / canvas.getBoundingClientRect().width;
  const t = timeAt(event);
  for (let i = 0; i < state.segments.length; i++) {
    for (const edge of ["start", "end"]) {
      if (Math.abs(state.segments[i][edge] - t) < 5 * perPixel) return {index: i, edge};
    }
  }
  return null;
}

function onWaveDown(event) {
  if (!state.item) return;
  state.drag = edgeNear(event);
  if (state.drag) return;
  const t = timeAt(event);
  const wasPlaying = Boolean(state.source);
  stop();
  state.position = t;
  const inside = state.segments.findIndex((s) => s.start <= t && t < s.end);
  if (inside >= 0) select(inside);
  if (wasPlaying) play(t, state.audio.duration);
  draw();
}

function onWaveMove(event) {
  const canvas = $("#wave");
  if (!state.item) return;
  if (!state.drag) { canvas.style.cursor = edgeNear(event) ? "ew-resize" : "crosshair"; return; }
  const {index, edge} = state.drag;
  const s = state.segments[index];
  const before = state.segments[index - 1];
  const after = state.segments[index + 1];
  const t = round(timeAt(event));
  if (edge === "start") s.start = Math.max(before ? before.end : 0, Math.min(t, s.end - 0.02));
  else s.end = Math.min(after ? after.start : state.item.duration_s, Math.max(t, s.start + 0.02));
  touch();
  draw();
}

function onWaveUp() {
  if (state.drag) { state.drag = null; renderSegments(); }
}

// ---- progress ---------------------------------------------------------------------------------------------

async function loadProgress() {
  const p = await api("/progress");
  const table = (title, head, rows) => el("section", {class: "card"}, el("h3", {}, title),
    el("table", {}, el("tr", {}, ...head.map((h) => el("th", {}, h))),
       ...rows.map((r) => el("tr", {}, ...r.map((v) => el("td", {}, v === null || v === undefined ? "–" : String(v)))))));
  const a = p.agreement;
  $("#progress").replaceChildren(
    table("Items", ["total", ...Object.keys(p.by_status)], [[p.items, ...Object.values(p.by_status)]]),
    table("Labeled segments per intent", ["intent", "segments"], Object.entries(p.labeled_segments_per_intent)),
    table("Per labeler", ["labeler", "saves", "items", "labeled", "last save"],
          Object.entries(p.per_labeler).map(([name, e]) => [name, e.saves, e.items, e.labeled, e.last_at])),
    table("Agreement on double-labeled items", ["labelers", "items", "CER", "same intents"],
          [["all", a.double_labeled_items, a.cer, a.intent_agreement],
           ...a.pairs.map((pair) => [pair.labelers.join(" / "), pair.items, pair.cer, pair.intent_agreement])]),
    table("Flags", ["flag", "items"], Object.entries(p.flags)));
}

function showView(id) {
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== id; });
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === id));
  if (id === "progress-view") loadProgress().catch((e) => say(e.message, "error"));
}

// ---- imports ----------------------------------------------------------------------------------------------

async function importFiles(files) {
  const form = new FormData();
  for (const file of files) form.append("files", file);
  say(`Importing ${files.length} file(s): transcribing…`);
  try {
    const result = await api("/import", {method: "POST", body: form});
    say(`Imported ${result.imported.length}; ${result.already_in_store} already in the store.`, "ok");
    loadQueue();
  } catch (error) {
    say(`Import refused: ${error.message}`, "error");
  }
}

async function importTurns() {
  say("Importing phone turns: transcribing…");
  try {
    const result = await api("/import/turns", {method: "POST"});
    say(`Imported ${result.imported.length} turn(s)` + (result.skipped.length ? `; skipped: ${result.skipped.join("; ")}` : "."), "ok");
    loadQueue();
  } catch (error) {
    say(`Import failed: ${error.message}`, "error");
  }
}

// ---- keys and start-up -------------------------------------------------------------------------------------

function onKey(event) {
  // event.code, not event.key: the physical key, whatever the keyboard layout or the Korean IME makes of it.
  const name = event.code === "Space" ? "space" : event.code.replace(/^Key/, "").toLowerCase();
  if ((event.ctrlKey || event.metaKey) && name === "s") { event.preventDefault(); if (state.item) save(); return; }
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (!state.item || event.ctrlKey || event.metaKey || (typing && !event.altKey)) return;
  const actions = {space: togglePlay, p: togglePlay, r: replay, n: nextItem, s: splitSegment, m: mergeSegment};
  if (actions[name]) { event.preventDefault(); actions[name](); }
}

async function start() {
  state.me = await api("/me");
  $("#who").textContent = `signed in as ${state.me.labeler}`;
  $("#filter-intent").append(...state.me.intents.map((name) => el("option", {value: name}, name)));
  document.querySelectorAll("#filters select, #filters input").forEach((f) => f.addEventListener("change", loadQueue));
  $("#play").addEventListener("click", togglePlay);
  $("#replay").addEventListener("click", replay);
  $("#split").addEventListener("click", splitSegment);
  $("#merge").addEventListener("click", mergeSegment);
  $("#add").addEventListener("click", addSegment);
  $("#next").addEventListener("click", nextItem);
  $("#save").addEventListener("click", () => save());
  $("#import-files").addEventListener("change", (e) => importFiles(e.target.files));
  $("#import-turns").addEventListener("click", importTurns);
  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => showView(t.dataset.view)));
  const wave = $("#wave");
  wave.addEventListener("mousedown", onWaveDown);
  wave.addEventListener("mousemove", onWaveMove);
  window.addEventListener("mouseup", onWaveUp);
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });
  await loadQueue();
  document.body.dataset.ready = "true";
}

start().catch((error) => say(`Could not start: ${error.message}`, "error"));
