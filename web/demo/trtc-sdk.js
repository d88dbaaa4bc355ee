// The trtc-sdk-v5 variant of the demo: Tencent's SDK (window.TRTC, served from this server's node_modules) entering
// trtcd's rooms through enterRoom's proxy option. The test UserSig is made in the page with trtcd's client SDK.
import { genTestUserSig } from '/sdk/trtcd.js';

const $ = (id) => document.getElementById(id);
const events = $('events');
const TRTC = window.TRTC;
let trtc = null;

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  events.prepend(li);
}

function setIn(inRoom) {
  $('enter').disabled = inRoom;
  for (const id of ['exit', 'camera', 'screen', 'send']) $(id).disabled = !inRoom;
  $('sdk-status').textContent = inRoom ? `in room ${$('room-id').value} as ${$('userid').value}` : 'not in a room';
}

function viewOf(userId, streamType) {
  const id = `remote-${userId}-${streamType}`;
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement('figure');
    el.id = id;
    el.dataset.user = userId;
    el.style.width = '320px';
    el.style.height = '240px';
    el.innerHTML = `<figcaption>${userId} (${streamType})</figcaption>`;
    $('remote').append(el);
  }
  return el;
}

if (!TRTC) {
  log('trtc-sdk-v5 is not installed on this server (npm install trtc-sdk-v5): this page needs it');
  $('enter').disabled = true;
}

$('enter-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const sdkAppId = Number($('sdkappid').value);
  const userId = $('userid').value.trim();
  const userSig = $('usersig').value.trim() || (await genTestUserSig({ sdkAppId, userId, secretKey: $('secretkey').value }));
  const room = $('room-id').value.trim();
  const roomRef = /^[1-9]\d{0,9}$/.test(room) ? { roomId: Number(room) } : { strRoomId: room };
  const role = $('role').value;
  trtc = TRTC.create($('mode').value === 'mpc' ? { enableSPC: false } : undefined);
  trtc.on(TRTC.EVENT.REMOTE_USER_ENTER, ({ userId: u }) => log(`${u} entered`));
  trtc.on(TRTC.EVENT.REMOTE_USER_EXIT, ({ userId: u }) => log(`${u} left`));
  trtc.on(TRTC.EVENT.REMOTE_VIDEO_AVAILABLE, ({ userId: u, streamType }) => {
    log(`${u} publishes ${streamType === 'sub' ? 'a screen' : 'video'}`);
    void trtc.startRemoteVideo({ userId: u, streamType, view: viewOf(u, streamType) });
  });
  trtc.on(TRTC.EVENT.REMOTE_VIDEO_UNAVAILABLE, ({ userId: u, streamType }) => {
    log(`${u} stopped ${streamType === 'sub' ? 'sharing a screen' : 'video'}`);
    document.getElementById(`remote-${u}-${streamType}`)?.remove();
  });
  trtc.on(TRTC.EVENT.REMOTE_AUDIO_AVAILABLE, ({ userId: u }) => log(`${u} publishes audio`));
  trtc.on(TRTC.EVENT.CUSTOM_MESSAGE, ({ userId: u, data }) => log(`${u} says: ${new TextDecoder().decode(data)}`));
  trtc.on(TRTC.EVENT.KICKED_OUT, ({ reason }) => {
    log(`removed from the room (${reason})`);
    setIn(false);
  });
  trtc.on(TRTC.EVENT.ERROR, (err) => log(`error ${err.code}: ${err.message}`));
  try {
    await trtc.enterRoom({
      sdkAppId, userId, userSig, ...roomRef, scene: 'live', role,
      proxy: { websocketProxy: `${location.origin.replace(/^http/, 'ws')}/v2/ws`, loggerProxy: location.origin },
    });
    log(`entered room ${room} as ${role}`);
    setIn(true);
  } catch (err) {
    log(`could not enter: ${err.code} ${err.extraCode ?? ''} ${err.message}`);
  }
});

$('exit').addEventListener('click', async () => {
  await trtc?.exitRoom();
  $('remote').replaceChildren();
  log('left the room');
  setIn(false);
});

$('camera').addEventListener('click', async () => {
  try {
    if ($('role').value === 'audience') {
      await trtc.switchRole('anchor');
      $('role').value = 'anchor';
      log('now an anchor');
    }
    await trtc.startLocalVideo({ view: $('local') });
    await trtc.startLocalAudio();
    log('publishing camera and microphone');
  } catch (err) {
    log(`could not publish: ${err.message}`);
  }
});

$('screen').addEventListener('click', async () => {
  try {
    await trtc.startScreenShare();
    log('sharing the screen');
  } catch (err) {
    log(`could not share: ${err.message}`);
  }
});

$('send').addEventListener('click', () => {
  const text = $('message').value;
  if (!text) return;
  trtc.sendCustomMessage({ cmdId: 1, data: new TextEncoder().encode(text).buffer });
  log(`you: ${text}`);
  $('message').value = '';
});
