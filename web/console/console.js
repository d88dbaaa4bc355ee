// The developer console's page: reads /console/api/state every second and draws each panel from it. Values are
// always set as text, never as HTML: user ids, room names and callback bodies come from clients.

const POLL_MS = 1000;
const appSelect = document.getElementById('app');
const updated = document.getElementById('updated');
const problem = document.getElementById('problem');
let last = '';
let state = { apps: [], app: null };

/** An element with attributes and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  return e;
}

const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '');
const seconds = (ms) => `${Math.round(ms / 1000)} s`;

/** A table, or a muted line when there are no rows. */
function table(headers, rows, empty) {
  if (rows.length === 0) return el('p', { class: 'muted' }, empty);
  return el('table', {}, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))), el('tbody', {}, rows));
}

function fill(id, ...content) {
  document.querySelector(`#${id} .body`).replaceChildren(...content);
}

/** Fills panel `id` with a table of `items`: a row each, with the attributes `attrs(item)` and the cells `cells(item)`. */
function fillTable(id, headers, items, attrs, cells, empty) {
  fill(id, table(headers, items.map((x) => el('tr', attrs(x), ...cells(x))), empty));
}

function drawSettings(app) {
  const s = app.settings;
  const urls = Object.entries(s.callbackUrls).filter(([, u]) => u);
  fill(
    'app-settings',
    el(
      'ul',
      {},
      el('li', {}, `SDKAppID ${app.sdkAppId}${s.disabled ? ' (disabled)' : ''}${s.expiresAt ? `, expires ${new Date(s.expiresAt * 1000).toLocaleString()}` : ''}`),
      el('li', {}, `Features: ${Object.entries(s.features).map(([k, on]) => `${k} ${on ? 'on' : 'off'}`).join(', ')}`),
      el('li', {}, `Rate limits: ${s.rateLimits}${s.accountLimit ? `, at most ${s.accountLimit} accounts` : ''}`),
      el('li', {}, urls.length ? `Callbacks: ${urls.map(([f, u]) => `${f} → ${u}`).join('; ')}` : 'No callback URL'),
    ),
  );
}

function drawLive(app) {
  fillTable('live-rooms', ['Room', 'Owner', 'Members', 'Seats', 'Messages and gifts'], app.liveRooms, (r) => ({ 'data-room': r.roomId }), (r) => [
    el('td', {}, el('strong', {}, r.roomId), r.name && r.name !== r.roomId ? el('div', { class: 'muted' }, r.name) : null),
    el('td', {}, r.owner, r.admins.length ? el('div', { class: 'muted' }, `admins: ${r.admins.join(', ')}`) : null),
    el('td', { class: 'members' }, r.members.length ? r.members.join(', ') : el('span', { class: 'muted' }, 'nobody'), r.robots.length ? el('div', { class: 'muted' }, `robots: ${r.robots.join(', ')}`) : null),
    el('td', { class: 'seats' }, r.seats.filter((s) => s.member || s.locked).map((s) => el('div', { 'data-seat': s.index }, `#${s.index} ${s.member || '(empty)'}${s.locked ? ' 🔒' : ''}`)), `${r.seats.length} seats`),
    el('td', { class: 'recent' }, el('ul', {}, r.recent.map((e) => el('li', { 'data-kind': e.kind }, `${time(e.time)} ${e.text}`))), el('div', { class: 'muted' }, `${r.messages} messages in all`)),
  ], 'No live room.');
}

// ---- Live thumbnails: each stream's video on its own recvonly peer connection (POST api/apps/<id>/previews) ----

/** `${sdkAppId}|${roomId}|${userId}|${stream}` → { video, pc, id, closed }: kept across redraws. */
const thumbs = new Map();
/** How long the page waits for its ICE candidates before offering without the rest, ms. */
const ICE_WAIT_MS = 2000;

function thumbKey(app, r, s) {
  return `${app.sdkAppId}|${r.numeric ? 'n' : 's'}${r.roomId}|${s.userId}|${s.stream}`;
}

async function openThumb(key, app, r, s, t) {
  const pc = new RTCPeerConnection();
  t.pc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addEventListener('track', (e) => {
    t.video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
  });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, ICE_WAIT_MS);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve(clearTimeout(timer));
      });
    });
  }
  const room = r.numeric ? { roomId: Number(r.roomId) } : { strRoomId: r.roomId };
  const res = await fetch(`api/apps/${app.sdkAppId}/previews`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...room, userId: s.userId, stream: s.stream, sdp: pc.localDescription.sdp }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  t.id = body.previewId;
  if (t.closed) return closeThumb(key, t);
  await pc.setRemoteDescription({ type: 'answer', sdp: body.sdp });
}

function closeThumb(key, t) {
  t.closed = true;
  thumbs.delete(key);
  t.pc?.close();
  t.video.remove();
  if (t.id) void fetch(`api/previews/${t.id}`, { method: 'DELETE' }).catch(() => undefined);
}

/** The thumbnail of a stream with video (opened the first time it is drawn). */
function thumb(app, r, s) {
  const key = thumbKey(app, r, s);
  let t = thumbs.get(key);
  if (!t) {
    const video = el('video', { class: 'thumb', autoplay: true, playsinline: true, 'data-user': s.userId, 'data-stream': s.stream });
    video.muted = true;
    t = { video, pc: null, id: null, closed: false };
    thumbs.set(key, t);
    const opened = t;
    openThumb(key, app, r, s, t).catch((err) => {
      opened.video.title = `no thumbnail: ${err.message}`;
    });
  }
  t.seen = true;
  return t.video;
}

/** Closes the thumbnails of streams no longer drawn. */
function sweepThumbs() {
  for (const [key, t] of thumbs) {
    if (!t.seen) closeThumb(key, t);
    else t.seen = false;
  }
}

function drawTrtc(app) {
  fillTable('trtc-rooms', ['Room', 'Members', 'Published streams'], app.trtcRooms, (r) => ({ 'data-room': r.roomId }), (r) => [
    el('td', {}, el('strong', {}, r.roomId), el('div', { class: 'muted' }, r.numeric ? 'numeric id' : 'string id')),
    el('td', { class: 'members' }, r.members.map((m) => el('div', { 'data-user': m.userId }, `${m.userId} (${m.role})`))),
    el(
      'td',
      { class: 'streams' },
      r.streams.length
        ? r.streams.map((s) =>
            el(
              'div',
              { 'data-user': s.userId, 'data-stream': s.stream },
              s.video ? thumb(app, r, s) : null,
              `${s.userId} ${s.stream}: ${[s.audio ? 'audio' : '', s.video ? 'video' : ''].filter(Boolean).join(' + ') || 'muted'}, ${s.subscribers} subscriber${s.subscribers === 1 ? '' : 's'}`,
            ),
          )
        : el('span', { class: 'muted' }, 'none'),
    ),
  ], 'No TRTC room has anyone in it.');
}

const memberText = (c) => c.members.map((m) => `${m.userId} ${m.status === 'Waiting' ? 'ringing' : 'in call'}`).join(', ');

function drawCalls(app) {
  fillTable('calls', ['Call', 'Caller', 'Members', 'Since'], app.calls, (c) => ({ 'data-call': c.callId }), (c) => [
    el('td', {}, c.callId, el('div', { class: 'muted' }, `${c.mediaType} ${c.callType}, room ${c.roomId}`)),
    el('td', {}, c.caller),
    el('td', { class: 'members' }, memberText(c)),
    el('td', {}, time(c.acceptTime || c.startTime), el('div', { class: 'muted' }, c.acceptTime ? 'in progress' : 'ringing')),
  ], 'No call is ringing or in progress.');
  fillTable('call-records', ['Call', 'Caller', 'Invited', 'Result', 'Duration'], app.callRecords, (c) => ({ 'data-call': c.callId }), (c) => [
    el('td', {}, c.callId, el('div', { class: 'muted' }, `${c.mediaType}, ${time(c.startTime)}`)),
    el('td', {}, c.caller),
    el('td', {}, c.invited.filter((u) => u !== c.caller).join(', ')),
    el('td', { class: 'result' }, c.result),
    el('td', {}, c.acceptTime ? seconds(c.endTime - c.acceptTime) : '—'),
  ], 'No call has ended in the last 7 days.');
}

const IVH_STATUS = { 1: 'ready', 2: 'closed', 3: 'preparing', 4: 'create failed' };

function drawDigitalHumans(app) {
  fillTable('digital-humans', ['Session', 'Avatar', 'User', 'Status', 'Room'], app.digitalHumans, (d) => ({ 'data-session': d.sessionId }), (d) => [
    el('td', {}, d.sessionId, el('div', { class: 'muted' }, `${d.protocol}, ${d.driverType}`)),
    el('td', {}, d.assetKey || d.projectId),
    el('td', {}, d.userId),
    el('td', { class: 'status' }, `${IVH_STATUS[d.status] ?? d.status}${d.started ? ', started' : ''}`),
    el('td', {}, d.room ? `${d.room.roomId} as ${d.room.userId}` : ''),
  ], 'No digital-human session in progress.');
}

async function retry(sdkAppId, id, button) {
  button.disabled = true;
  try {
    const res = await fetch(`api/apps/${sdkAppId}/callbacks/${id}/retry`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    if (!res.ok) showProblem(`retry of callback ${id} failed: ${(await res.json()).error?.message ?? res.status}`);
  } finally {
    void poll();
  }
}

function drawCallbacks(app) {
  fillTable('callbacks', ['#', 'Command', 'Status', 'Attempts', 'Last HTTP status', 'Each attempt', 'Queued', ''], app.callbacks, (c) => ({ 'data-callback': c.id, 'data-status': c.status }), (c) => [
    el('td', {}, c.id),
    el('td', { title: c.body }, c.command),
    el('td', { class: `status status-${c.status}` }, c.status, c.nextAttemptAt ? el('div', { class: 'muted' }, `next ${time(c.nextAttemptAt)}`) : null),
    el('td', { class: 'attempts' }, c.attempts),
    el('td', { class: 'last' }, c.lastStatus ? String(c.lastStatus) : '—', c.lastError ? el('div', { class: 'muted' }, c.lastError) : null),
    el(
      'td',
      { class: 'history' },
      el('ol', {}, c.attemptLog.map((a) => el('li', { 'data-attempt': a.attempt }, `${time(a.at)} ${a.status ? `HTTP ${a.status}` : 'no reply'}${a.error && a.error !== `HTTP ${a.status}` ? ` (${a.error})` : ''}, ${a.durationMs} ms`))),
    ),
    el('td', {}, time(c.createdAt)),
    el('td', {}, c.status === 'delivered' ? '' : el('button', { type: 'button', class: 'retry', onclick: (ev) => void retry(app.sdkAppId, c.id, ev.currentTarget) }, 'Retry now')),
  ], 'No callback yet.');
}

function draw() {
  const ids = state.apps.map((a) => String(a.sdkAppId));
  if ([...appSelect.options].map((o) => o.value).join() !== ids.join()) {
    const keep = appSelect.value;
    appSelect.replaceChildren(...ids.map((id) => el('option', { value: id }, id)));
    if (ids.includes(keep)) appSelect.value = keep;
  }
  const app = state.app;
  if (!app) return;
  if (appSelect.value !== String(app.sdkAppId)) appSelect.value = String(app.sdkAppId);
  drawSettings(app);
  drawLive(app);
  drawTrtc(app);
  sweepThumbs();
  drawCalls(app);
  drawDigitalHumans(app);
  drawCallbacks(app);
}

function showProblem(text) {
  problem.textContent = text;
  problem.hidden = !text;
}

async function poll() {
  try {
    // The full view of the selected app only (the others are listed by id).
    const res = await fetch(`api/state${appSelect.value ? `?sdkAppId=${appSelect.value}` : ''}`, { cache: 'no-store' });
    if (res.status === 401) {
      showProblem('Signed out: open the console address trtcd logged at start, or sign in again.');
      location.reload();
      return;
    }
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error?.message ?? `HTTP ${res.status}`);
    const text = await res.text();
    const next = JSON.parse(text);
    updated.textContent = `updated ${new Date(next.now).toLocaleTimeString()}`;
    showProblem('');
    // Redraw only on change, so that a button is not replaced under the pointer every second.
    const body = JSON.stringify([next.apps, next.app]);
    if (body !== last) {
      last = body;
      state = next;
      draw();
    }
  } catch (err) {
    showProblem(`trtcd is not answering: ${err.message}`);
  }
}

appSelect.addEventListener('change', () => void poll());

// For tests and curious developers: the frames each thumbnail decoded, by `${userId}/${stream}`.
window.trtcdConsole = {
  async thumbnailFrames() {
    const out = {};
    for (const t of thumbs.values()) {
      if (!t.pc) continue;
      const stats = await t.pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') out[`${t.video.dataset.user}/${t.video.dataset.stream}`] = r.framesDecoded ?? 0;
      });
    }
    return out;
  },
};
void poll();
setInterval(() => void poll(), POLL_MS);
