/* The History page: every ended session from fleetcastd's store
 * (/api/v1/history), newest first; a click shows its machines as the
 * morning report does (/api/v1/report?session=RUN). Read-only: it takes the
 * viewer token from its address (?token=) or the one the console kept. Text
 * from the wire (names, errors) is only ever set as text. */
'use strict';

const VIEWER = new URLSearchParams(location.search).get('token') || '';
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem('fleetcast.token') || VIEWER;
}

async function get(path) {
  const t = token();
  const r = await fetch('/api/v1' + path, { headers: t ? { Authorization: 'Bearer ' + t } : {} });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text == null ? '' : String(text);
  if (cls) td.className = cls;
  return td;
}

function when(t) {
  return t ? new Date(t * 1000).toLocaleString() : '-';
}

function duration(s) {
  if (!s.started_at || !s.ended_at) return '-';
  const d = s.ended_at - s.started_at;
  return Math.floor(d / 60) + ' min ' + String(d % 60).padStart(2, '0') + ' s';
}

function mbit(bps) {
  return bps ? (bps / 1e6).toFixed(1) + ' Mbit/s' : '-';
}

function showError(e) {
  $('h-error').hidden = false;
  $('h-error').textContent = String(e.message || e);
}

// The clone's identity as the history keeps it: what was set where, else
// the step's outcome (docs/identity.md).
function identityOf(m) {
  return m.identity_detail || m.identity || '-';
}

async function showRun(run) {
  try {
    const r = await get('/report?session=' + encodeURIComponent(run));
    const e = r.sessions[0];
    $('run-summary').textContent = e.summary;
    $('run-machines').replaceChildren(...e.machines.map((m) => {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'history-machine';
      tr.append(cell(m.name), cell(m.mac), cell(m.ip), cell(m.state, m.state),
        cell(m.verdict || '-'), cell(mbit(m.rate_bps)), cell(m.repairs_requested),
        cell(m.hostname || '-'), cell(identityOf(m)), cell(m.error));
      return tr;
    }));
    $('run-detail').hidden = false;
  } catch (e) {
    showError(e);
  }
}

async function load() {
  const span = parseInt($('since').value, 10);
  const since = span ? Math.floor(Date.now() / 1000) - span : 0;
  try {
    const h = await get('/history?limit=1000&since=' + since);
    $('h-error').hidden = true;
    $('runs').replaceChildren(...h.sessions.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'history-run';
      tr.dataset.run = s.run || '';
      tr.append(cell(when(s.ended_at)), cell(s.id), cell(s.result, s.result), cell(s.image),
        cell(s.receivers.done), cell(s.receivers.failed), cell(s.receivers.dropped),
        cell(duration(s)));
      tr.addEventListener('click', () => showRun(s.run));
      return tr;
    }));
    $('no-runs').hidden = h.sessions.length > 0;
  } catch (e) {
    showError(e);
  }
}

if (VIEWER) $('to-console').href = '/?token=' + encodeURIComponent(VIEWER);
$('since').addEventListener('change', load);
load();
setInterval(load, 30000);
