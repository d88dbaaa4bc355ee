// The trtcd demo page: log in, meet in a TRTC room, call another user, watch a live room. It uses the client SDK
// served by trtcd itself (/sdk/trtcd.js); with a SecretKey it makes a test UserSig in the page (development only).
import { TrtcdClient, genTestUserSig } from '/sdk/trtcd.js';

const $ = (id) => document.getElementById(id);

/** @type {TrtcdClient | null} */
let client = null;
/** The call this page shows (the last one it started or was rung for), or null. */
let call = null;
let roomMembers = new Set();
let liveRoomId = null;
/** The room whose audio and video this page shows, your publication in it, and what you receive: `${userId}/${stream}` → { sub, fig }. */
const media = { room: null, publication: null, subs: new Map() };

// The server defaults to the page's own host.
$('server').value = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rtc`;
for (const id of ['server', 'sdkappid', 'userid']) {
  const saved = localStorage.getItem(`trtcd-demo-${id}`);
  if (saved && id !== 'server') $(id).value = saved;
}

function log(text, err = false) {
  addItem('log', `${new Date().toLocaleTimeString()} ${text}`, err);
}

function addItem(listId, text, err = false, attrs = {}) {
  const li = document.createElement('li');
  li.textContent = text;
  if (err) li.className = 'err';
  for (const [k, v] of Object.entries(attrs)) li.dataset[k] = v;
  $(listId).append(li);
  li.scrollIntoView({ block: 'nearest' });
}

function setStatus(text, kind = '') {
  $('conn-status').textContent = text;
  $('conn-status').className = `status ${kind}`;
}

/** Runs a button's action, logging a refusal instead of throwing. */
function action(id, fn) {
  $(id).addEventListener('click', async (ev) => {
    ev.preventDefault();
    try {
      await fn();
    } catch (e) {
      log(`${id}: ${e.code !== undefined ? `${e.code} ` : ''}${e.message}`, true);
    }
  });
}

function enable(loggedIn) {
  for (const id of ['room-enter', 'room-leave', 'room-send', 'media-publish', 'media-unpublish', 'call', 'live-create', 'live-enter', 'live-leave', 'live-send', 'gift-send', 'logout']) $(id).disabled = !loggedIn;
  $('login').disabled = loggedIn;
  if (!loggedIn) $('hangup').disabled = true;
}

// ---- Log in / out ----

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const sdkAppId = Number($('sdkappid').value);
  const userId = $('userid').value.trim();
  const secretKey = $('secretkey').value.trim();
  let userSig = $('usersig').value.trim();
  for (const id of ['server', 'sdkappid', 'userid']) localStorage.setItem(`trtcd-demo-${id}`, $(id).value);
  $('login').disabled = true;
  try {
    if (!userSig) {
      if (!secretKey) throw new Error('give a SecretKey or a UserSig');
      userSig = await genTestUserSig({ sdkAppId, userId, secretKey });
    }
    client = new TrtcdClient({ url: $('server').value.trim(), sdkAppId, userId, userSig, platform: 'Web', reconnect: { maxAttempts: 20 } });
    wire(client);
    setStatus('connecting…', 'warn');
    const reply = await client.connect();
    setStatus(`connected as ${reply.userId}`, 'ok');
    log(`logged in as ${reply.userId} (UserSig valid until ${new Date(reply.expiresAt * 1000).toLocaleString()})`);
    enable(true);
  } catch (e) {
    setStatus(`login failed: ${e.code !== undefined ? `${e.code} ` : ''}${e.message}`, 'err');
    log(`login failed: ${e.message}`, true);
    client = null;
    enable(false);
  }
});

action('logout', async () => {
  const c = client;
  if (!c) return;
  await c.logout();
});

function wire(c) {
  c.on('reconnecting', ({ attempt, delayMs }) => setStatus(`reconnecting (attempt ${attempt}, in ${delayMs} ms)…`, 'warn'));
  c.on('resumed', ({ resumed, lost }) => {
    setStatus(`connected as ${c.userId}`, 'ok');
    log(resumed ? 'session resumed' : `reconnected, rooms entered again${lost.length ? ` (${lost.length} lost)` : ''}`);
  });
  c.on('republished', ({ room, stream, code, message }) =>
    log(code === undefined ? `publishing again in ${roomText(room)} (${stream})` : `could not publish again in ${roomText(room)}: ${code} ${message ?? ''}`, code !== undefined),
  );
  c.on('disconnected', ({ code }) => log(`connection lost (${code})`, true));
  c.on('closed', ({ code, reason }) => {
    if (client !== c) return;
    setStatus(code === 1000 ? 'logged out' : `closed: ${code}${reason ? ` ${reason}` : ''}`, code === 1000 ? '' : 'err');
    client = null;
    roomMembers = new Set();
    renderMembers();
    setRoomState(null);
    liveRoomId = null;
    $('live-info').textContent = '';
    void stopMedia();
    enable(false);
  });
  c.on('session.expired', () => log('UserSig expired', true));
  c.on('protocolError', ({ code, message }) => log(`server error ${code}: ${message}`, true));

  c.on('room.userEnter', (e) => {
    roomMembers.add(e.userId);
    renderMembers();
    addItem('room-feed', `${e.userId} entered (${e.role})`);
  });
  c.on('room.userLeave', (e) => {
    roomMembers.delete(e.userId);
    renderMembers();
    addItem('room-feed', `${e.userId} left (${e.reason})`);
  });
  c.on('room.message', (e) => addItem('room-feed', `${e.from}: ${e.data}`, false, { from: e.from }));
  c.on('room.removed', (e) => {
    roomMembers = new Set();
    renderMembers();
    setRoomState(null);
    addItem('room-feed', `removed from the room: ${e.reason}`, true);
    if (sameRoom(e.room, media.room)) void stopMedia();
  });
  c.on('media.published', (e) => {
    if (sameRoom(e.room, media.room)) void receive(e);
  });
  c.on('media.unpublished', (e) => {
    if (!sameRoom(e.room, media.room)) return;
    dropRemote(`${e.userId}/${e.stream}`);
    addItem('room-feed', `${e.userId} stopped publishing (${e.reason})`);
  });
  c.on('media.updated', (e) => {
    const r = media.subs.get(`${e.userId}/${e.stream}`);
    if (r) r.fig.querySelector('figcaption').textContent = caption(e);
  });

  c.on('call.invited', (e) => showCall(e.call, 'invited'));
  c.on('call.updated', (e) => showCall(e.call, e.changes.map((x) => `${x.userId} ${x.action}`).join(', ')));

  c.on('live.event', (e) => addItem('live-feed', describeLive(e), false, { kind: e.kind }));
  c.on('live.removed', (e) => {
    addItem('live-feed', `out of the live room: ${e.reason}`, true, { kind: 'removed' });
    liveRoomId = null;
    $('live-info').textContent = '';
  });
}

// ---- TRTC room ----

function roomInput() {
  const v = $('room-id').value.trim();
  return /^[1-9]\d{0,9}$/.test(v) ? { roomId: Number(v) } : { strRoomId: v };
}

function renderMembers() {
  $('room-members').textContent = [...roomMembers].sort().join(', ');
}

/** A room as people say it: its number, or its string id. */
function roomText(room) {
  return String(room.roomId ?? room.strRoomId);
}

/** Shows which room this page is in and with which role (null: none); the role picker follows it. */
function setRoomState(room, role) {
  $('room-state').textContent = room ? `in room ${roomText(room)} as ${role}` : 'not in a room';
  if (room) $('room-role').value = role;
}

/** Enters a TRTC room and shows its audio and video (the streams already published, then each new one). */
async function enterMediaRoom(room, role) {
  await stopMedia();
  const r = await client.enterRoom(room, { role });
  roomMembers = new Set(r.members.map((m) => m.userId));
  renderMembers();
  const mine = r.members.find((m) => m.userId === client.userId)?.role ?? role;
  setRoomState(r.room, mine);
  addItem('room-feed', `entered room ${roomText(r.room)} as ${mine}`);
  media.room = r.room;
  for (const st of r.streams ?? []) void receive(st);
  return r;
}

async function leaveMediaRoom(room) {
  await stopMedia();
  await client.leaveRoom(room);
  roomMembers = new Set();
  renderMembers();
  setRoomState(null);
  addItem('room-feed', 'left the room');
}

action('room-enter', () => enterMediaRoom(roomInput(), $('room-role').value));
action('room-leave', () => leaveMediaRoom(roomInput()));
action('room-send', async () => {
  const text = $('room-text').value;
  const r = await client.sendRoomMessage(roomInput(), text);
  addItem('room-feed', `me: ${text} (to ${r.delivered})`, false, { from: client.userId });
  $('room-text').value = '';
});

// ---- Audio and video ----

function sameRoom(a, b) {
  return !!a && !!b && a.roomId === b.roomId && a.strRoomId === b.strRoomId;
}

function caption(st) {
  const off = [st.audioMuted && 'mic off', st.videoMuted && 'camera off'].filter(Boolean).join(', ');
  return `${st.userId}${st.stream === 'sub' ? ' (screen)' : ''}${off ? ` · ${off}` : ''}`;
}

/** Subscribes to a published stream and shows it. */
async function receive(st) {
  const key = `${st.userId}/${st.stream}`;
  if (!client || st.userId === client.userId || media.subs.has(key)) return;
  const fig = document.createElement('figure');
  fig.dataset.user = st.userId;
  fig.dataset.stream = st.stream;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  const cap = document.createElement('figcaption');
  cap.textContent = caption(st);
  fig.append(video, cap);
  media.subs.set(key, { sub: null, fig });
  $('remote-videos').append(fig);
  try {
    const sub = await client.subscribe(media.room, st.userId, { stream: st.stream });
    const entry = media.subs.get(key);
    if (entry?.fig !== fig) return void sub.close();
    entry.sub = sub;
    video.srcObject = sub.media;
    log(`receiving ${key}`);
  } catch (e) {
    dropRemote(key);
    log(`subscribe ${key}: ${e.code ?? ''} ${e.message}`, true);
  }
}

function dropRemote(key) {
  const r = media.subs.get(key);
  if (!r) return;
  media.subs.delete(key);
  r.sub?.pc.close();
  r.fig.remove();
}

/** Publishes camera and microphone (microphone only with `video` false) in the media room. */
async function publishCamera(video = true) {
  if (!media.room) throw new Error('enter a room first');
  if (media.publication) return;
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video });
  try {
    media.publication = await client.publish(media.room, local);
  } catch (e) {
    for (const t of local.getTracks()) t.stop();
    throw e;
  }
  $('local-video').srcObject = local;
  $('mute-audio').checked = false;
  $('mute-video').checked = false;
  log(`publishing ${video ? 'camera and microphone' : 'microphone'}`);
}

async function unpublish() {
  const p = media.publication;
  if (!p) return;
  media.publication = null;
  await p.stop();
  for (const t of p.tracks) t.stop();
  $('local-video').srcObject = null;
}

async function stopMedia() {
  await unpublish();
  for (const key of [...media.subs.keys()]) {
    media.subs.get(key).sub?.close();
    dropRemote(key);
  }
  media.room = null;
}

action('media-publish', () => publishCamera());
action('media-unpublish', () => unpublish());
for (const kind of ['audio', 'video']) {
  $(`mute-${kind}`).addEventListener('change', async (ev) => {
    try {
      await media.publication?.mute(kind, ev.target.checked);
    } catch (e) {
      log(`mute: ${e.message}`, true);
    }
  });
}

// ---- Calls ----

/** ringing / in call / ended: <result>, as this user sees the call. */
function callState(c) {
  if (c.result) return `ended: ${c.result}`;
  const me = c.members.find((m) => m.userId === client?.userId);
  if (!me) return 'ended: left';
  const others = c.members.filter((m) => m.userId !== me.userId);
  return me.status === 'Calling' && others.some((m) => m.status === 'Calling') ? 'in call' : 'ringing';
}

function showCall(c, what) {
  // A page shows one call at a time: a second ring while in a call is only logged.
  if (call && call.callId !== c.callId && !call.result) {
    log(`call ${c.callId} from ${c.caller}: ${what}`);
    return;
  }
  call = c;
  const state = callState(c);
  $('call-status').textContent = state;
  const me = c.members.find((m) => m.userId === client?.userId);
  const ringingMe = state === 'ringing' && c.caller !== client?.userId && me?.status === 'Waiting';
  $('incoming').hidden = !ringingMe;
  $('incoming-text').textContent = ringingMe ? `${c.caller} is calling (${c.mediaType})` : '';
  $('hangup').disabled = state.startsWith('ended');
  void callMedia(c, state);
  const peers = c.members.map((m) => `${m.userId} ${m.status}`).join(', ');
  $('call-info').textContent = `${c.mediaType} call ${c.callId} from ${c.caller}${peers ? ` · ${peers}` : ''}${what ? ` · ${what}` : ''}`;
}

/** The TRTC room of a call, or null when it has none. */
function callRoom(c) {
  if (!c.roomId) return null;
  return c.roomIdType === 1 ? { roomId: Number(c.roomId) } : { strRoomId: c.roomId };
}

let callInRoom = null;
/** A call in progress has media: both sides enter its room and publish (microphone only for an audio call). */
async function callMedia(c, state) {
  const room = callRoom(c);
  try {
    if (state === 'in call' && room && callInRoom !== c.callId) {
      callInRoom = c.callId;
      $('room-id').value = room.roomId ?? room.strRoomId;
      await enterMediaRoom(room, 'anchor');
      await publishCamera(c.mediaType === 'Video');
    } else if (state.startsWith('ended') && callInRoom === c.callId) {
      callInRoom = null;
      if (room) await leaveMediaRoom(room);
    }
  } catch (e) {
    log(`call media: ${e.code ?? ''} ${e.message}`, true);
  }
}

action('call', async () => {
  const callee = $('callee').value.trim();
  // As TUICallKit does, the caller picks the call's TRTC room: a random numeric room id.
  const roomId = 1 + Math.floor(Math.random() * 2_000_000_000);
  const r = await client.startCall({ callees: [callee], mediaType: $('media').value, roomId });
  call = null;
  showCall(r.call, r.busy.length ? `busy: ${r.busy.join(', ')}` : 'started');
});
action('accept', async () => showCall((await client.acceptCall(call.callId)).call, 'accepted'));
action('reject', async () => showCall((await client.rejectCall(call.callId)).call, 'rejected'));
action('hangup', async () => showCall((await client.hangup(call.callId)).call, 'hung up'));

// ---- Live rooms ----

function describeLive(e) {
  const d = e.data ?? {};
  switch (e.kind) {
    case 'gift':
      return `gift: ${d.from} sent ${d.count ?? 1} × ${d.name || d.giftId} to ${(d.receivers ?? []).join(', ')}`;
    case 'text':
      return `${d.sender}: ${d.text}`;
    case 'custom':
      return `custom [${d.businessId}] from ${d.sender}: ${d.data}`;
    case 'destroyed':
      return 'the room was destroyed';
    case 'seat':
      return describeSeat(d);
    case 'mute':
      return `${(d.users ?? []).join(', ')} ${d.seconds ? `muted for ${d.seconds} s` : 'unmuted'}`;
    case 'ban':
      return `${(d.users ?? []).join(', ')} banned${d.reason ? `: ${d.reason}` : ''}`;
    case 'unban':
      return `${(d.users ?? []).join(', ')} unbanned`;
    case 'owner':
      return `${d.owner} is the owner now`;
    case 'admin':
      return `${(d.users ?? []).join(', ')} ${d.op === 'delete' ? 'no longer admins' : 'made admins'}`;
    case 'robot':
      return d.removed ? `robots left: ${d.removed.join(', ')}` : `robots joined: ${(d.added ?? []).join(', ')}`;
    case 'metadata':
      return d.deleted ? `room metadata removed: ${d.deleted.join(', ')}` : `room metadata set: ${(d.keys ?? []).join(', ')}`;
    case 'updated':
      return `the room's ${(d.fields ?? []).join(', ') || 'settings'} changed`;
    default:
      return e.kind;
  }
}

function describeSeat(d) {
  const who = d.user ?? d.member ?? 'someone';
  switch (d.action) {
    case 'take':
    case 'pick':
      return `${who} is on seat ${d.index}`;
    case 'apply':
      return `${who} asks for seat ${d.index}`;
    case 'kick':
      return `${who} left the seat`;
    case 'lock':
      return `seat ${d.index} ${d.taken === false ? 'unlocked' : 'locked'}`;
    case 'switch':
    case 'move':
      return `${who} moved to seat ${d.index}`;
    default:
      return `seats changed (${d.action ?? 'update'})`;
  }
}

/** Shows the live room just entered (or created) and joins its TRTC room of the same id: the owner goes live. */
async function showLiveRoom(room) {
  liveRoomId = room.roomId;
  const owner = room.owner === client.userId;
  $('room-id').value = room.roomId;
  await enterMediaRoom({ strRoomId: room.roomId }, owner ? 'anchor' : 'audience');
  if (owner) await publishCamera();
  const name = room.info?.RoomName && room.info.RoomName !== room.roomId ? `“${room.info.RoomName}” ` : '';
  $('live-info').textContent = `${name}${room.roomId} · owner ${room.owner}${owner ? ' (you)' : ''} · ${room.viewCount} views · ${room.seats.filter((s) => s.member).length}/${room.seats.length} seats taken`;
  addItem('live-feed', `${owner ? 'live in' : 'entered'} ${room.roomId}`, false, { kind: 'entered' });
  void showGifts();
}

/** The app's gifts, for the gift box. */
async function showGifts() {
  try {
    const gifts = await client.listGifts();
    $('gift-list').replaceChildren(...gifts.map((g) => Object.assign(document.createElement('option'), { value: g.giftId, label: `${g.name} (${g.coins} coins)` })));
    $('gifts').textContent = gifts.length ? `Gifts: ${gifts.map((g) => `${g.name} (${g.giftId}, ${g.coins} coin${g.coins === 1 ? '' : 's'})`).join(', ')}` : 'This app has no gifts yet (REST add_gift or copy_default_gift_config).';
    if (!$('gift-id').value && gifts[0]) $('gift-id').value = gifts[0].giftId;
  } catch (e) {
    $('gifts').textContent = `No gifts: ${e.code ?? ''} ${e.message}`;
  }
}

action('live-create', async () => {
  const { room } = await client.createLiveRoom($('live-id').value.trim());
  await showLiveRoom(room);
});
action('live-enter', async () => {
  const { room } = await client.enterLiveRoom($('live-id').value.trim());
  await showLiveRoom(room);
});
action('live-leave', async () => {
  const id = $('live-id').value.trim();
  await client.leaveLiveRoom(id);
  if (sameRoom(media.room, { strRoomId: id })) await leaveMediaRoom({ strRoomId: id });
  liveRoomId = null;
  $('live-info').textContent = '';
  addItem('live-feed', 'left the live room', false, { kind: 'left' });
});
action('live-send', async () => {
  await client.sendLiveText(liveRoomId ?? $('live-id').value.trim(), $('live-text').value);
  $('live-text').value = '';
});
action('gift-send', async () => {
  await client.sendGift(liveRoomId ?? $('live-id').value.trim(), $('gift-id').value.trim());
});

// For poking at the client from the browser console.
window.trtcdDemo = {
  get client() { return client; },
  get call() { return call; },
  get media() { return media; },
  /** Inbound RTP totals of every stream received: [{ userId, stream, kind, bytesReceived, framesDecoded }]. */
  async inbound() {
    const out = [];
    for (const [key, { sub }] of media.subs) {
      if (!sub) continue;
      const [userId, stream] = key.split('/');
      const report = await sub.pc.getStats();
      report.forEach((r) => {
        if (r.type === 'inbound-rtp') out.push({ userId, stream, kind: r.kind, bytesReceived: r.bytesReceived ?? 0, framesDecoded: r.framesDecoded ?? 0 });
      });
    }
    return out;
  },
};
