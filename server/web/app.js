/* fleetcast console: the dashboard served by fleetcastd (docs/api.md).
 * Plain JS, no framework, nothing from the internet. State comes from the
 * event stream (/api/v1/events); if that keeps failing, from polling
 * /api/v1/sessions, /api/v1/machines and /api/v1/captures every 2 s; the
 * captures come whole in every progress event. The "PXE seen" panel
 * polls /api/v1/pxe every 5 s (the watcher's list is not on the stream). */
'use strict';

const API = '/api/v1';
const PLOT_SECONDS = 300;
const POLL_MS = 2000;
const PXE_POLL_MS = 5000;
const PXE_SHOWN = 40;
const SSE_FAILS_BEFORE_POLL = 3;
const SSE_RETRY_FROM_POLL_MS = 30000;
const TOKEN_KEY = 'fleetcast.token';
/* The viewer token (viewer.token) may come in the page's address, for a
 * screen that only watches: fleetcastd takes it for reads only, and never
 * takes the write token from an address (it would end up in logs). */
const VIEWER_TOKEN = new URLSearchParams(location.search).get('token') || '';
const ENDED = { finished: true, aborted: true };
const MACHINE_ENDED = { done: true, failed: true, dropped: true };

const st = {
  sessions: new Map(), // id -> Session
  machines: new Map(), // "session/id" -> Machine
  history: new Map(), // session id -> [{t, rate, bytes}]
  failSeen: new Map(), // "session/id" -> epoch seconds the failure was first seen
  selected: null,
  userSelected: false,
  es: null,
  sseFails: 0,
  mode: 'connecting',
  pollTimer: null,
  sseRetryTimer: null,
  renderQueued: false,
  tiles: new Map(), // machine key -> tile element
  captures: [], // every capture fleetcastd knows, as the snapshot lists them
};

const $ = (id) => document.getElementById(id);

/* ---------- formatting ---------- */

function fmtBits(bps) {
  if (bps == null) return '–';
  const u = [['G', 1e9], ['M', 1e6], ['k', 1e3]];
  for (const [p, v] of u) if (bps >= v) return (bps / v).toFixed(bps >= 10 * v ? 0 : 1) + ' ' + p + 'bit/s';
  return Math.round(bps) + ' bit/s';
}

function fmtBytes(n) {
  if (n == null) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n >= 100 ? 0 : 1) : n) + ' ' + u[i];
}

function fmtDuration(s) {
  if (s == null) return '–';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (x) => String(x).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

function fmtTime(epoch) {
  if (!epoch) return '–';
  return new Date(epoch * 1000).toLocaleTimeString([], { hour12: false });
}

function fmtPct(p) {
  return p == null ? '–' : (p >= 100 ? '100' : p.toFixed(1)) + ' %';
}

function baseName(path) {
  return (path || '').split('/').pop();
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

/* ---------- state updates ---------- */

function machineKey(m) {
  return m.session + '/' + m.id;
}

function putSession(s) {
  st.sessions.set(s.id, s);
}

function putMachine(m) {
  const key = machineKey(m);
  if (m.state === 'failed' || m.state === 'dropped') {
    if (!st.failSeen.has(key)) st.failSeen.set(key, Math.floor(Date.now() / 1000));
  }
  st.machines.set(key, m);
}

function sample(s) {
  let h = st.history.get(s.id);
  if (!h) st.history.set(s.id, (h = []));
  const t = Date.now() / 1000;
  const last = h[h.length - 1];
  if (last && t - last.t < 0.5) return;
  h.push({ t, rate: s.rate_bps || 0, bytes: s.bytes_sent || 0, state: s.state });
  while (h.length && t - h[0].t > PLOT_SECONDS + 5) h.shift();
}

/* A full picture (first progress event, or a poll): replace everything. */
function replaceAll(sessions, machines) {
  st.sessions.clear();
  st.machines.clear();
  sessions.forEach(putSession);
  machines.forEach(putMachine);
  sessions.forEach(sample);
}

function onProgress(d, full) {
  if (Array.isArray(d.captures)) st.captures = d.captures;
  if (full) return replaceAll(d.sessions || [], d.machines || []);
  (d.sessions || []).forEach((s) => { putSession(s); sample(s); });
  (d.machines || []).forEach(putMachine);
}

function chooseSelection() {
  const cur = st.selected && st.sessions.get(st.selected);
  if (cur && (st.userSelected || !ENDED[cur.state])) return;
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('session');
  if (fromHash && st.sessions.has(fromHash)) { st.selected = fromHash; return; }
  const all = [...st.sessions.values()];
  const live = all.filter((s) => !ENDED[s.state]);
  const pick = (live.length ? live : all).sort((a, b) => b.created_at - a.created_at)[0];
  if (!cur || (pick && !ENDED[pick.state])) st.selected = pick ? pick.id : null;
}

function select(id) {
  st.selected = id;
  st.userSelected = true;
  history.replaceState(null, '', '#session=' + encodeURIComponent(id));
  resetCancelButton();
  render();
}

/* ---------- live updates: SSE, else polling ---------- */

function setMode(mode, text) {
  st.mode = mode;
  const c = $('conn');
  c.dataset.mode = mode;
  c.textContent = text;
}

function connectEvents() {
  if (st.es) st.es.close();
  let first = true;
  const es = new EventSource(API + '/events' +
    (VIEWER_TOKEN ? '?token=' + encodeURIComponent(VIEWER_TOKEN) : ''));
  st.es = es;
  const handle = (fn) => (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    st.sseFails = 0;
    if (st.mode !== 'live') { stopPolling(); setMode('live', 'live'); }
    fn(d);
    scheduleRender();
  };
  es.addEventListener('progress', handle((d) => { onProgress(d, first); first = false; }));
  es.addEventListener('session', handle((d) => { if (d.session) { putSession(d.session); sample(d.session); } }));
  es.addEventListener('machine', handle((d) => { if (d.machine) putMachine(d.machine); }));
  es.onopen = () => { first = true; };
  es.onerror = () => {
    st.sseFails++;
    if (st.sseFails >= SSE_FAILS_BEFORE_POLL || es.readyState === EventSource.CLOSED) {
      es.close();
      st.es = null;
      startPolling();
    } else {
      setMode('connecting', 'reconnecting…');
    }
  };
}

function startPolling() {
  if (st.pollTimer) return;
  setMode('polling', 'polling');
  poll();
  st.pollTimer = setInterval(poll, POLL_MS);
  clearTimeout(st.sseRetryTimer);
  st.sseRetryTimer = setTimeout(() => { st.sseFails = 0; connectEvents(); }, SSE_RETRY_FROM_POLL_MS);
}

function stopPolling() {
  clearInterval(st.pollTimer);
  clearTimeout(st.sseRetryTimer);
  st.pollTimer = null;
}

async function poll() {
  try {
    const [s, m, c] = await Promise.all([apiGet('/sessions'), apiGet('/machines'),
      apiGet('/captures')]);
    replaceAll(s.sessions || [], m.machines || []);
    st.captures = c.captures || [];
    if (st.mode !== 'polling') setMode('polling', 'polling');
    scheduleRender();
  } catch (e) {
    setMode('offline', e.status === 401 ? 'token needed' : 'offline');
    if (e.status === 401 && !st.askedForReads) {
      st.askedForReads = true;
      askToken('Reading needs the API token from this address.').catch(() => {});
    }
  }
}

/* ---------- API calls ---------- */

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token() || (method === 'GET' ? VIEWER_TOKEN : '');
  if (t) headers.Authorization = 'Bearer ' + t;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
  });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = new Error((data && data.error) || res.status + ' ' + res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

function apiGet(path) {
  return request('GET', path);
}

/* A call that changes something: asks for the token first if none is kept,
 * and again (then retries once) when the server refuses it (401) or it is
 * the viewer token, which only reads (403). */
async function mutate(path, body) {
  if (!token()) await askToken('Starting, cancelling and creating sessions need the API token.');
  try {
    return await request('POST', path, body === undefined ? {} : body);
  } catch (e) {
    if (e.status !== 401 && e.status !== 403) throw e;
    sessionStorage.removeItem(TOKEN_KEY);
    await askToken(e.status === 403 ? 'That token can only read. Enter the write token (api.token).'
      : 'The token was refused. Enter the current one.');
    return request('POST', path, body === undefined ? {} : body);
  }
}

let tokenWaiters = [];

function askToken(msg) {
  $('token-msg').textContent = msg || 'Calls that change anything need fleetcastd\'s token.';
  $('token-input').value = token();
  $('token-dialog').hidden = false;
  $('token-input').focus();
  return new Promise((resolve, reject) => tokenWaiters.push({ resolve, reject }));
}

function closeToken(ok) {
  $('token-dialog').hidden = true;
  const w = tokenWaiters;
  tokenWaiters = [];
  w.forEach((x) => (ok ? x.resolve() : x.reject(Object.assign(new Error('no token'), { quiet: true }))));
}

function toast(text, isErr) {
  const t = $('toast');
  t.textContent = text;
  t.className = 'toast' + (isErr ? ' err' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, isErr ? 7000 : 3000);
}

async function action(label, fn) {
  try {
    const r = await fn();
    toast(label + ': ok');
    if (r && r.session) { putSession(r.session); sample(r.session); }
    scheduleRender();
    return r;
  } catch (e) {
    if (!e.quiet) toast(label + ': ' + e.message, true);
    return null;
  }
}

/* ---------- rendering ---------- */

function scheduleRender() {
  if (st.renderQueued) return;
  st.renderQueued = true;
  requestAnimationFrame(() => { st.renderQueued = false; render(); });
}

function render() {
  chooseSelection();
  renderSessions();
  renderCaptures();
  renderDetail();
}

function countsNode(c) {
  const span = el('span', 'counts');
  for (const k of ['active', 'done', 'failed', 'dropped']) {
    const x = el('span', 'c c-' + k);
    x.append(el('b', null, String((c && c[k]) || 0)), ' ' + k);
    span.append(x);
  }
  return span;
}

function sessionRow(s) {
  const row = el('div', 'srow' + (s.id === st.selected ? ' selected' : ''));
  row.setAttribute('data-testid', 'session-row');
  row.dataset.id = s.id;
  row.dataset.state = s.state;
  const l1 = el('div', 'l1');
  l1.append(el('span', 'sid', s.id), el('span', 'st', s.state),
    el('span', 'eta', ENDED[s.state] ? '' : 'ETA ' + fmtDuration(s.eta_seconds)));
  const bar = el('div', 'bar');
  const fill = el('div', 'fill');
  fill.style.width = Math.min(100, s.progress_pct || 0) + '%';
  bar.append(fill);
  const l2 = el('div', 'l2', baseName(s.image) + ' → ' + s.group);
  l2.title = s.image + ' on ' + s.group + ' via ' + s.iface;
  const l3 = el('div', 'l2', fmtPct(s.progress_pct) + ' · ' + (ENDED[s.state] ? s.state : fmtBits(s.rate_bps)) +
    ' · repair ' + (s.repair_pct || 0).toFixed(1) + ' %');
  const l4 = el('div', 'l4');
  l4.append(countsNode(s.receivers));
  row.append(l1, bar, l2, l3, l4);
  row.addEventListener('click', () => select(s.id));
  return row;
}

function renderSessions() {
  const box = $('sessions');
  const list = [...st.sessions.values()].sort((a, b) => b.created_at - a.created_at);
  box.replaceChildren(...list.map(sessionRow));
  if (!list.length) box.append(el('p', 'empty', 'No session yet.'));
}

function machinesOf(id) {
  return [...st.machines.values()].filter((m) => m.session === id)
    .sort((a, b) => a.id - b.id);
}

function renderDetail() {
  const s = st.selected && st.sessions.get(st.selected);
  $('placeholder').hidden = !!s;
  $('detail-body').hidden = !s;
  if (!s) return;
  const ms = machinesOf(s.id);
  renderHead(s);
  renderTotals(s, ms);
  renderGrid(s, ms);
  renderFailures(ms);
  drawPlot(s);
}

function renderHead(s) {
  $('d-id').textContent = s.id;
  $('d-state').textContent = s.state;
  $('d-state').dataset.state = s.state;
  $('d-image').textContent = s.image;
  $('d-image').title = s.image;
  $('start-btn').disabled = s.state !== 'waiting';
  $('cancel-btn').disabled = !!ENDED[s.state];
  document.title = `fleetcast ${s.id} ${s.state} ${fmtPct(s.progress_pct)}`;
}

// The start policy as it stands: max_wait counts from the first join, so
// before one there is no deadline yet.
function waitingFor(s) {
  let w = 'waiting for ' + s.min_receivers + ' receivers';
  if (s.start_deadline) w += ', or until ' + fmtTime(s.start_deadline);
  else if (s.max_wait) w += ', or ' + s.max_wait + ' s after the first joins';
  return w;
}

function renderTotals(s, ms) {
  const pct = Math.min(100, s.progress_pct || 0);
  $('d-bar').style.width = pct + '%';
  $('d-bar').style.background = s.state === 'finished' ? 'var(--done)' : s.state === 'aborted' ? 'var(--failed)' : '';
  $('d-pct').textContent = fmtPct(s.progress_pct);
  $('d-rate').textContent = (ENDED[s.state] ? '–' : fmtBits(s.rate_bps)) + ' (cap ' + fmtBits(s.rate_cap_bps) + ')';
  $('d-sent').textContent = fmtBytes(s.bytes_sent) + ' (image ' + fmtBytes(s.image_bytes) + ')';
  $('d-repair').textContent = (s.repair_pct || 0).toFixed(1) + ' %';
  $('d-eta').textContent = ENDED[s.state] ? s.state : fmtDuration(s.eta_seconds);
  const byState = {};
  ms.forEach((m) => { byState[m.state] = (byState[m.state] || 0) + 1; });
  $('d-counts').textContent = ms.length + ': ' + (Object.keys(byState).sort()
    .map((k) => byState[k] + ' ' + k).join(', ') || 'none yet');
  $('d-group').textContent = s.group + ' on ' + s.iface;
  let times = s.started_at ? fmtTime(s.started_at) : 'not yet (' + waitingFor(s) + ')';
  if (s.ended_at) times += ', ended ' + fmtTime(s.ended_at) +
    (s.started_at ? ' (' + fmtDuration(s.ended_at - s.started_at) + ')' : '');
  $('d-times').textContent = times;
}

function makeTile() {
  const t = el('div', 'tile');
  t.setAttribute('data-testid', 'machine-tile');
  const nm = el('div', 'nm');
  nm.append(el('span', 'n'), el('span', 'p'));
  const pb = el('div', 'pb');
  const fill = el('div', 'fill');
  fill.setAttribute('data-testid', 'machine-progress');
  pb.append(fill);
  t.append(nm, el('div', 'ip'), el('div', 'st'), el('div', 'rt'), pb);
  return t;
}

// The clone's identity: the host name the server gave it and what came of it
// (docs/identity.md); '' when none was given.
function identityText(m) {
  if (!m.hostname) return '';
  const what = m.identity_detail || m.identity;
  return m.hostname + (what ? ' (' + what + ')' : '');
}

function updateTile(t, m) {
  const pct = Math.min(100, Math.max(0, m.progress_pct || 0));
  t.dataset.state = m.state;
  t.dataset.name = m.name || m.mac || m.ip;
  t.dataset.progress = pct.toFixed(1);
  t.querySelector('.n').textContent = m.name || m.mac || '#' + m.id;
  t.querySelector('.p').textContent = Math.floor(pct) + '%';
  t.querySelector('.ip').textContent = m.ip || m.mac || '';
  const ident = identityText(m);
  t.querySelector('.st').replaceChildren(el('b', null, m.state),
    ident ? el('span', 'hn', ' · ' + ident) : '');
  const rate = m.state === 'receiving' ? fmtBits(m.rate_bps).replace('bit/s', 'b/s') : '';
  const grow = m.grow ? (m.grow.done ? 'grown' : 'not grown') : '';
  t.querySelector('.rt').textContent = rate + (m.repairs_requested ? (rate ? ' · ' : '') +
    m.repairs_requested + ' rep' : '') + (grow ? (rate || m.repairs_requested ? ' · ' : '') + grow : '');
  const fill = t.querySelector('.fill');
  fill.style.width = pct + '%';
  fill.dataset.progress = pct.toFixed(1);
  t.title = [
    (m.name || '?') + (m.mac ? ' (' + m.mac + ')' : ''), 'IP ' + m.ip, 'state ' + m.state,
    'progress ' + fmtPct(m.progress_pct), 'rate ' + fmtBits(m.rate_bps),
    'repairs requested ' + m.repairs_requested + ', packets lost ' + m.pkts_lost,
    'disk ' + fmtBytes(m.disk_size), 'last seen ' + fmtTime(m.last_seen),
  ].concat(identityText(m) ? ['host name ' + identityText(m)] : [])
    .concat(m.error ? ['error: ' + m.error] : [])
    .concat(m.grow ? ['grow: ' + m.grow.result] : []).join('\n');
}

function renderGrid(s, ms) {
  const grid = $('grid');
  const want = new Set(ms.map(machineKey));
  for (const [k, t] of st.tiles) {
    if (!want.has(k)) { t.remove(); st.tiles.delete(k); }
  }
  ms.forEach((m, i) => {
    const k = machineKey(m);
    let t = st.tiles.get(k);
    if (!t) { t = makeTile(); st.tiles.set(k, t); }
    updateTile(t, m);
    if (grid.children[i] !== t) grid.insertBefore(t, grid.children[i] || null);
  });
  $('no-machines').hidden = ms.length > 0;
}

function renderFailures(ms) {
  const bad = ms.filter((m) => m.state === 'failed' || m.state === 'dropped');
  const when = (m) => m.last_seen || st.failSeen.get(machineKey(m)) || 0;
  bad.sort((a, b) => when(a) - when(b));
  const ol = $('failures');
  if (!bad.length) {
    ol.replaceChildren(el('li', 'none', 'No failures.'));
    return;
  }
  ol.replaceChildren(...bad.map((m) => {
    const li = el('li');
    li.setAttribute('data-testid', 'failure-line');
    li.dataset.name = m.name || m.mac || m.ip;
    li.append(el('span', 't', fmtTime(when(m)) + ' '), el('span', 's-' + m.state, m.state),
      ' ' + (m.name || m.mac || '#' + m.id) + ' (' + m.ip + '): ' + (m.error || 'no reason given'));
    li.title = li.textContent;
    return li;
  }));
}

/* ---------- throughput plot ---------- */

function niceMax(v) {
  if (v <= 0) return 1e6;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function drawPlot(s) {
  const c = $('plot');
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (!w || !h) return;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
  }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const hist = st.history.get(s.id) || [];
  const now = Date.now() / 1000;
  const L = 62, R = 8, T = 8, B = 18;
  const pw = w - L - R, ph = h - T - B;
  const top = niceMax(Math.max(s.rate_cap_bps || 0, ...hist.map((p) => p.rate)) * 1.05);
  const x = (t) => L + pw * (1 - (now - t) / PLOT_SECONDS);
  const y = (v) => T + ph * (1 - v / top);
  drawAxes(g, L, T, pw, ph, top, y);
  if (s.rate_cap_bps) {
    g.setLineDash([4, 3]);
    g.strokeStyle = '#d99a14';
    line(g, L, y(s.rate_cap_bps), L + pw, y(s.rate_cap_bps));
    g.setLineDash([]);
  }
  const pts = hist.filter((p) => now - p.t <= PLOT_SECONDS);
  if (pts.length < 2) {
    g.fillStyle = '#6b7380';
    g.fillText('waiting for samples…', L + 8, T + ph / 2);
    return;
  }
  g.beginPath();
  g.moveTo(x(pts[0].t), y(0));
  pts.forEach((p) => g.lineTo(x(p.t), y(p.rate)));
  g.lineTo(x(pts[pts.length - 1].t), y(0));
  g.closePath();
  g.fillStyle = '#2f6fdf22';
  g.fill();
  g.beginPath();
  pts.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.rate)) : g.moveTo(x(p.t), y(p.rate))));
  g.strokeStyle = '#2f6fdf';
  g.lineWidth = 1.5;
  g.stroke();
  g.lineWidth = 1;
}

function line(g, x0, y0, x1, y1) {
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
}

function drawAxes(g, L, T, pw, ph, top, y) {
  g.font = '10px system-ui, sans-serif';
  g.strokeStyle = '#e6e9ed';
  g.fillStyle = '#6b7380';
  g.textBaseline = 'middle';
  g.textAlign = 'right';
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    line(g, L, y(v), L + pw, y(v));
    g.fillText(fmtBits(v).replace('bit/s', 'b/s'), L - 4, y(v));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (let s = 0; s <= PLOT_SECONDS; s += 60) {
    g.fillText(s ? '-' + s / 60 + ' min' : 'now', L + pw * (1 - s / PLOT_SECONDS), T + ph + 4);
  }
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
}

/* ---------- captures ---------- */

function captureRow(c) {
  const li = el('li');
  li.setAttribute('data-testid', 'capture-row');
  li.dataset.mac = c.mac;
  li.dataset.state = c.state;
  const top = el('div');
  top.append(el('span', 'mac', c.mac), ' ', el('b', 'cstate', c.state), ' → ' + baseName(c.out));
  let progress = fmtBytes(c.bytes || 0) + ' in ' + (c.chunks || 0) + ' chunks';
  if (c.raw_bytes) progress += ' (' + fmtBytes(c.raw_bytes) + ' of disk)';
  if (c.state === 'uploading' && c.rate) progress += ' · ' + fmtBytes(c.rate) + '/s';
  if (c.peer) progress += ' · from ' + c.peer;
  const info = el('div', 'info', progress);
  info.setAttribute('data-testid', 'capture-progress');
  li.title = [c.mac, 'out ' + c.out, 'level ' + c.level].join('\n');
  li.append(top, info);
  if (c.error) {
    const err = el('div', 'err', c.error);
    err.setAttribute('data-testid', 'capture-error');
    li.append(err);
  }
  return li;
}

function renderCaptures() {
  $('capture-list').replaceChildren(...st.captures.map(captureRow));
  $('no-captures').hidden = st.captures.length > 0;
}

/* ---------- PXE seen ---------- */

function pxeRow(m) {
  const li = el('li');
  li.setAttribute('data-testid', 'pxe-row');
  li.dataset.mac = m.mac;
  li.dataset.machine = m.machine;
  const top = el('div');
  top.append(el('span', 'mac', m.mac), ' ', el('b', null, m.arch || 'no arch'), ' · ' + m.machine);
  const info = el('div', 'info', fmtTime(m.last_seen) + ' · ' + m.message + ' ×' + m.count +
    (m.known ? ' · ' + (m.name || 'known') : ' · unknown') + (m.vendor ? ' · ' + m.vendor : ''));
  li.title = [m.mac, 'arch ' + (m.arch == null ? '–' : m.arch + ' (' + m.arch_code + ')'),
    'uuid ' + (m.uuid || '–'), 'first seen ' + fmtTime(m.first_seen), 'on ' + m.iface,
    m.known ? 'in the inventory as ' + m.name : 'not in the inventory'].join('\n');
  li.append(top, info);
  return li;
}

function renderPxe(doc) {
  const list = (doc && doc.machines) || [];
  const watching = (doc && doc.watching) || [];
  $('pxe-list').replaceChildren(...list.slice(0, PXE_SHOWN).map(pxeRow));
  let note = '';
  if (!watching.length) note = 'Not watching (fleetcastd --watch-iface IF).';
  else if (!list.length) note = 'Watching ' + watching.join(', ') + ': no PXE boot yet.';
  else if (list.length > PXE_SHOWN) note = (list.length - PXE_SHOWN) + ' more: fleetcast pxe seen.';
  $('pxe-note').textContent = note;
  $('pxe-note').hidden = !note;
}

async function pollPxe() {
  try {
    renderPxe(await apiGet('/pxe'));
  } catch (e) {
    $('pxe-note').textContent = 'PXE list: ' + e.message;
    $('pxe-note').hidden = false;
  }
}

/* ---------- buttons and forms ---------- */

function resetCancelButton() {
  const b = $('cancel-btn');
  clearTimeout(b.timer);
  b.classList.remove('armed');
  b.textContent = 'Cancel session';
}

function onStart() {
  const id = st.selected;
  if (id) action('start ' + id, () => mutate('/sessions/' + encodeURIComponent(id) + '/start'));
}

/* Cancelling aborts every receiver: the first click arms, a second within 4 s acts. */
function onCancel() {
  const b = $('cancel-btn');
  const id = st.selected;
  if (!id) return;
  if (!b.classList.contains('armed')) {
    b.classList.add('armed');
    b.textContent = 'Click again to cancel';
    b.timer = setTimeout(resetCancelButton, 4000);
    return;
  }
  resetCancelButton();
  action('cancel ' + id, () => mutate('/sessions/' + encodeURIComponent(id) + '/cancel'));
}

function formBody(f) {
  const body = { image: f.image.value.trim(), group: f.group.value.trim(), iface: f.iface.value.trim() };
  if (f.rate.value.trim()) body.rate = f.rate.value.trim();
  for (const k of ['min_receivers', 'max_wait', 'fec']) {
    if (f[k].value !== '') body[k] = parseInt(f[k].value, 10);
  }
  body.start = f.start_now.checked ? 'now' : 'policy';
  return body;
}

async function onCreate(ev) {
  ev.preventDefault();
  const f = $('new-form');
  $('new-error').textContent = '';
  try {
    if (!token()) await askToken('Creating a session needs the API token.');
    const r = await mutate('/sessions', formBody(f));
    if (r && r.session) {
      putSession(r.session);
      sample(r.session);
      select(r.session.id);
      toast('session ' + r.session.id + ' created');
      f.hidden = true;
    }
  } catch (e) {
    if (!e.quiet) $('new-error').textContent = e.message;
  }
}

function bind() {
  $('start-btn').addEventListener('click', onStart);
  $('cancel-btn').addEventListener('click', onCancel);
  $('new-toggle').addEventListener('click', () => {
    const f = $('new-form');
    f.hidden = !f.hidden;
    if (!f.hidden) f.image.focus();
  });
  $('new-cancel').addEventListener('click', () => { $('new-form').hidden = true; });
  $('new-form').addEventListener('submit', onCreate);
  $('token-button').addEventListener('click', () => askToken().catch(() => {}));
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('token-input').value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    closeToken(!!v);
  });
  $('token-close').addEventListener('click', () => closeToken(false));
  window.addEventListener('resize', scheduleRender);
  window.addEventListener('hashchange', () => {
    const id = new URLSearchParams(location.hash.slice(1)).get('session');
    if (id && st.sessions.has(id)) select(id);
  });
  /* keep the plot moving between events, and ages ("ETA") fresh */
  setInterval(scheduleRender, 1000);
  /* the History page reads with the same viewer token */
  if (VIEWER_TOKEN) $('to-history').href = '/history.html?token=' + encodeURIComponent(VIEWER_TOKEN);
}

bind();
if (window.EventSource) connectEvents(); else startPolling();
pollPxe();
setInterval(pollPxe, PXE_POLL_MS);
