// trtcd's SRTP accelerator: RTP protection in place, for the SFU's RtpWriter and its media workers. AES_CM_128_HMAC_SHA1_80
// by libsrtp2 (Debian's libsrtp2-dev); AEAD_AES_128_GCM (RFC 7714) by the OpenSSL Node itself carries, with one cipher
// context per session, because Debian's libsrtp2 does GCM through NSS, whose per-packet contexts serialise threads.
// Built at install by scripts/build-native.mjs when the library and Node's headers are present; without it trtcd
// protects with node:crypto (src/realtime/media/srtp-protect.ts). The functions:
//   create(aead: boolean, masterKeyAndSalt: Buffer) -> session   (libsrtp2: AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80)
//   createGcm(sessionKey: Buffer, sessionSalt: Buffer) -> session (AEAD_AES_128_GCM from the derived session key and salt)
//   protect(session, buffer, offset, length) -> protected length (the tag is written after the packet)
//   destination(ip: string, port: number) -> an IPv4 or IPv6 socket address
//   protectSend(session | null, fd, destination, buffer, offset, length) -> bytes sent; -1 when protection failed,
//     -2 when the socket refused the datagram (full or closed). The media workers send on the UDP socket of a
//     peer connection's nominated ICE pair by its descriptor (a datagram send is one system call, safe from any thread).
//   protectSendJoined(session | null, fd, destination, buffer, headerOffset, headerLength, payloadOffset, payloadLength)
//     -> the same, for a packet whose header and payload lie apart in `buffer` (the payload shared by every subscriber's
//     copy): they are joined in a per-thread scratch buffer first.
//   protectSendParts(session | null, fd, destination, header, headerOffset, headerLength, payload, payloadOffset, payloadLength)
//     -> the same, with the header and the payload in two buffers.
// And a publisher's ingress, read on a media worker (src/realtime/media/ingress.ts):
//   createInbound(aead: boolean, masterKeyAndSalt: Buffer) -> session (libsrtp2, any inbound SSRC, replay-checked)
//   unprotect(session, buffer, offset, length) -> the packet's length once authenticated and decrypted in place, or -1
//   dup(fd) -> a second descriptor of the same socket, or -1: the worker reads through its own, which it closes, so a
//     descriptor number the main thread closes and reuses is never read by the worker
//   close(fd): closes a descriptor dup() made that was not handed to watch()
//   watch(fd, buffer, meta, onDatagrams) -> watcher: reads datagrams off the descriptor as the worker's event loop finds
//     it readable, datagram i into buffer[i * 2048, …) and its length, source port, family (4 or 6) and source address
//     (one int for IPv4, four for IPv6) into meta[i * 8, …), then calls onDatagrams(count); closes the descriptor
//     when stopped
//   unwatch(watcher) -> stops reading and closes the descriptor; safe to repeat (and done when the worker exits)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/** A sending SSRC's rollover counter and highest sequence number (RFC 3711 §3.3.1). */
typedef struct {
  uint32_t ssrc;
  uint32_t roc;
  uint16_t seq;
  uint8_t used;
} ssrc_state;

#define SSRCS 8

/** One session: libsrtp2's, or an AES-128-GCM context with its salt and the rollover state of its SSRCs. */
typedef struct {
  srtp_t srtp;
  EVP_CIPHER_CTX* gcm;
  uint8_t salt[12];
  ssrc_state ssrcs[SSRCS];
  unsigned next;
} session;

static void release(napi_env env, void* data, void* hint) {
  session* s = data;
  (void)env;
  (void)hint;
  if (s->srtp) srtp_dealloc(s->srtp);
  if (s->gcm) EVP_CIPHER_CTX_free(s->gcm);
  free(s);
}

static napi_value wrap(napi_env env, session* s) {
  napi_value out;
  if (napi_create_external(env, s, release, NULL, &out) != napi_ok) {
    release(env, s, NULL);
    return NULL;
  }
  return out;
}

// A function that throws returns NULL: each of these throws one kind of error and returns it, for `return type_error(…)`.

/** Throws an Error (the call was right but could not be done). */
static napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/** Throws a TypeError (arguments of the wrong kind). */
static napi_value type_error(napi_env env, const char* message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/** Throws a RangeError (numbers that do not fit). */
static napi_value range_error(napi_env env, const char* message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/** The packet's rollover counter (a retransmission from before a wrap keeps the old one). */
static uint32_t rollover(session* s, uint32_t ssrc, uint16_t seq) {
  ssrc_state* st = NULL;
  int32_t delta;
  for (unsigned i = 0; i < SSRCS; i++)
    if (s->ssrcs[i].used && s->ssrcs[i].ssrc == ssrc) st = &s->ssrcs[i];
  if (!st) {
    st = &s->ssrcs[s->next];
    s->next = (s->next + 1) % SSRCS;
    st->used = 1;
    st->ssrc = ssrc;
    st->roc = 0;
    st->seq = seq;
    return 0;
  }
  delta = (int32_t)seq - (int32_t)st->seq;
  if (delta > 32768) return st->roc - 1;
  if (delta < -32768) {
    st->roc++;
    st->seq = seq;
  } else if (delta > 0) {
    st->seq = seq;
  }
  return st->roc;
}

/** RFC 7714 AEAD_AES_128_GCM: the header is authenticated, the payload encrypted in place, the 16-byte tag appended. */
static int protect_gcm(session* s, uint8_t* p, int* len) {
  uint8_t iv[12];
  int header = 12 + 4 * (p[0] & 0x0f), n = 0;
  uint32_t ssrc, roc;
  uint16_t seq;
  if ((p[0] & 0x10) && header + 4 <= *len) header += 4 + 4 * ((p[header + 2] << 8) | p[header + 3]);
  if (header > *len) return -1;
  ssrc = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
  seq = (uint16_t)((p[2] << 8) | p[3]);
  roc = rollover(s, ssrc, seq);
  // 00 00 || SSRC || ROC || SEQ, XOR the salt.
  iv[0] = 0;
  iv[1] = 0;
  memcpy(iv + 2, p + 8, 4);
  iv[6] = (uint8_t)(roc >> 24);
  iv[7] = (uint8_t)(roc >> 16);
  iv[8] = (uint8_t)(roc >> 8);
  iv[9] = (uint8_t)roc;
  iv[10] = p[2];
  iv[11] = p[3];
  for (int i = 0; i < 12; i++) iv[i] ^= s->salt[i];
  if (EVP_EncryptInit_ex(s->gcm, NULL, NULL, NULL, iv) != 1 || EVP_EncryptUpdate(s->gcm, NULL, &n, p, header) != 1 ||
      EVP_EncryptUpdate(s->gcm, p + header, &n, p + header, *len - header) != 1 || EVP_EncryptFinal_ex(s->gcm, p + *len, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->gcm, EVP_CTRL_GCM_GET_TAG, 16, p + *len) != 1)
    return -1;
  *len += 16;
  return 0;
}

static int protect_any(session* s, uint8_t* p, int* len) {
  if (s->gcm) return protect_gcm(s, p, len);
  return srtp_protect(s->srtp, p, len) == srtp_err_status_ok ? 0 : -1;
}

static napi_value create_gcm(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *key = NULL, *salt = NULL;
  size_t key_len = 0, salt_len = 0;
  session* s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_buffer_info(env, argv[0], &key, &key_len) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &salt, &salt_len) != napi_ok || key_len != 16 || salt_len != 12) {
    return type_error(env, "createGcm(sessionKey, sessionSalt): 16 and 12 bytes");
  }
  s = calloc(1, sizeof *s);
  if (!s) return NULL;
  memcpy(s->salt, salt, 12);
  s->gcm = EVP_CIPHER_CTX_new();
  if (!s->gcm || EVP_EncryptInit_ex(s->gcm, EVP_aes_128_gcm(), NULL, key, NULL) != 1) {
    release(env, s, NULL);
    return fail(env, "AES-128-GCM is not available");
  }
  return wrap(env, s);
}

static napi_value create_session(napi_env env, napi_callback_info info, bool inbound) {
  size_t argc = 2;
  napi_value argv[2];
  bool aead = false;
  void* key = NULL;
  size_t key_len = 0;
  srtp_policy_t policy;
  session* s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_bool(env, argv[0], &aead) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &key, &key_len) != napi_ok || key_len != (aead ? 28u : 30u)) {
    return type_error(env, "create(aead, masterKeyAndSalt) / createInbound: 28 bytes for AEAD_AES_128_GCM, 30 for AES_CM_128_HMAC_SHA1_80");
  }
  memset(&policy, 0, sizeof policy);
  if (aead) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
  }
  policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = (unsigned char*)key;
  policy.window_size = 1024;
  // Retransmissions (NACK answers) protect the same sequence number again.
  policy.allow_repeat_tx = 1;
  s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (srtp_create(&s->srtp, &policy) != srtp_err_status_ok) {
    free(s);
    return fail(env, "srtp_create failed");
  }
  return wrap(env, s);
}

static napi_value create(napi_env env, napi_callback_info info) {
  return create_session(env, info, false);
}

static napi_value create_inbound(napi_env env, napi_callback_info info) {
  return create_session(env, info, true);
}

/** Reads (session, buffer, offset, length): the session and the packet, which must lie in the buffer with `room` after it. */
static bool read_packet_args(napi_env env, napi_callback_info info, session** s, uint8_t** packet, int32_t* length, int32_t min_length, size_t room) {
  size_t argc = 4;
  napi_value argv[4];
  void* buf = NULL;
  size_t buf_len = 0;
  int32_t offset = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_external(env, argv[0], (void**)s) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &buf, &buf_len) != napi_ok || napi_get_value_int32(env, argv[2], &offset) != napi_ok ||
      napi_get_value_int32(env, argv[3], length) != napi_ok || offset < 0 || *length < min_length || (size_t)offset + (size_t)*length + room > buf_len) {
    return false;
  }
  *packet = (uint8_t*)buf + offset;
  return true;
}

/** protect() and unprotect(): the packet's new length (its tag added or taken off), or -1. */
static napi_value crypt_packet(napi_env env, napi_callback_info info, bool inbound) {
  session* s;
  uint8_t* p;
  int32_t length;
  int len;
  bool ok;
  napi_value out;
  if (!read_packet_args(env, info, &s, &p, &length, inbound ? 0 : 12, inbound ? 0 : 16)) {
    return range_error(env, inbound ? "unprotect(session, buffer, offset, length): the packet must lie in the buffer"
                                     : "protect(session, buffer, offset, length): the packet and room for its tag must fit in the buffer");
  }
  len = length;
  ok = inbound ? s->srtp && length >= 12 && srtp_unprotect(s->srtp, p, &len) == srtp_err_status_ok : protect_any(s, p, &len) == 0;
  napi_create_int32(env, ok ? len : -1, &out);
  return out;
}

static napi_value protect(napi_env env, napi_callback_info info) {
  return crypt_packet(env, info, false);
}

static napi_value unprotect(napi_env env, napi_callback_info info) {
  return crypt_packet(env, info, true);
}

static void release_address(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value destination(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char ip[64];
  size_t ip_len = 0;
  int32_t port = 0;
  struct sockaddr_storage* sa;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_string_utf8(env, argv[0], ip, sizeof ip, &ip_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 1 || port > 65535) {
    return type_error(env, "destination(ip, port): an IP address and a port 1-65535");
  }
  sa = calloc(1, sizeof *sa);
  if (!sa) return NULL;
  if (inet_pton(AF_INET, ip, &((struct sockaddr_in*)sa)->sin_addr) == 1) {
    ((struct sockaddr_in*)sa)->sin_family = AF_INET;
    ((struct sockaddr_in*)sa)->sin_port = htons((uint16_t)port);
  } else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6*)sa)->sin6_addr) == 1) {
    ((struct sockaddr_in6*)sa)->sin6_family = AF_INET6;
    ((struct sockaddr_in6*)sa)->sin6_port = htons((uint16_t)port);
  } else {
    free(sa);
    return type_error(env, "destination(ip, port): not an IPv4 or IPv6 address");
  }
  if (napi_create_external(env, sa, release_address, NULL, &out) != napi_ok) {
    free(sa);
    return NULL;
  }
  return out;
}

/** Protects (with a session) the packet at p and sends it: bytes sent, -1 when protection failed, -2 when the socket refused it. */
static napi_value protect_and_send(napi_env env, session* s, int fd, const struct sockaddr* sa, uint8_t* p, int len) {
  ssize_t sent;
  napi_value out;
  if (s && protect_any(s, p, &len) != 0) {
    napi_create_int32(env, -1, &out);
    return out;
  }
  sent = sendto(fd, p, (size_t)len, MSG_DONTWAIT, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  napi_create_int32(env, sent < 0 ? -2 : (int32_t)sent, &out);
  return out;
}

/** The arguments protectSend and protectSendJoined begin with: (session | null, fd, destination, buffer). */
typedef struct {
  void* session;
  int32_t fd;
  void* destination;
  void* buf;
  size_t buf_len;
} send_args;

/** Reads send_args from argv; false when one is not what it should be. */
static bool read_send_args(napi_env env, napi_value* argv, send_args* a) {
  napi_valuetype session_type;
  return napi_typeof(env, argv[0], &session_type) == napi_ok && (session_type == napi_null || napi_get_value_external(env, argv[0], &a->session) == napi_ok) &&
         napi_get_value_int32(env, argv[1], &a->fd) == napi_ok && napi_get_value_external(env, argv[2], &a->destination) == napi_ok &&
         napi_get_buffer_info(env, argv[3], &a->buf, &a->buf_len) == napi_ok;
}

static napi_value protect_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  send_args a = {.fd = -1};
  int32_t offset = 0, length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || !read_send_args(env, argv, &a) ||
      napi_get_value_int32(env, argv[4], &offset) != napi_ok || napi_get_value_int32(env, argv[5], &length) != napi_ok || a.fd < 0 || offset < 0 ||
      length < 12 || (size_t)offset + (size_t)length + 16 > a.buf_len) {
    return range_error(env, "protectSend(session, fd, destination, buffer, offset, length): the packet and room for its tag must fit in the buffer");
  }
  return protect_and_send(env, a.session, a.fd, a.destination, (uint8_t*)a.buf + offset, length);
}

static srtp_err_status_t init_status;

static void init_once(void) {
  init_status = srtp_init();
}

/** Joins a header and a payload in a per-thread scratch buffer, then protects and sends them as one datagram. */
static napi_value join_protect_send(napi_env env, const send_args* a, const uint8_t* header, int32_t h_len, const uint8_t* payload, int32_t p_len) {
  static __thread uint8_t scratch[2048];
  memcpy(scratch, header, (size_t)h_len);
  memcpy(scratch + h_len, payload, (size_t)p_len);
  return protect_and_send(env, a->session, a->fd, a->destination, scratch, h_len + p_len);
}

/** Whether a header and a payload fit join_protect_send's scratch buffer with room for the tag. */
#define FITS_SCRATCH(h_len, p_len) ((size_t)(h_len) + (size_t)(p_len) + 16 <= 2048)

static napi_value protect_send_joined(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  send_args a = {.fd = -1};
  int32_t h_off = 0, h_len = 0, p_off = 0, p_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8 || !read_send_args(env, argv, &a) ||
      napi_get_value_int32(env, argv[4], &h_off) != napi_ok || napi_get_value_int32(env, argv[5], &h_len) != napi_ok ||
      napi_get_value_int32(env, argv[6], &p_off) != napi_ok || napi_get_value_int32(env, argv[7], &p_len) != napi_ok || a.fd < 0 || h_off < 0 ||
      h_len < 12 || p_off < 0 || p_len < 0 || (size_t)h_off + (size_t)h_len > a.buf_len || (size_t)p_off + (size_t)p_len > a.buf_len ||
      !FITS_SCRATCH(h_len, p_len)) {
    return range_error(env, "protectSendJoined(session, fd, destination, buffer, headerOffset, headerLength, payloadOffset, payloadLength): out of range");
  }
  return join_protect_send(env, &a, (uint8_t*)a.buf + h_off, h_len, (uint8_t*)a.buf + p_off, p_len);
}

static napi_value protect_send_parts(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  send_args a = {.fd = -1};
  void* payload = NULL;
  size_t payload_len = 0;
  int32_t h_off = 0, h_len = 0, p_off = 0, p_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 9 || !read_send_args(env, argv, &a) ||
      napi_get_value_int32(env, argv[4], &h_off) != napi_ok || napi_get_value_int32(env, argv[5], &h_len) != napi_ok ||
      napi_get_buffer_info(env, argv[6], &payload, &payload_len) != napi_ok || napi_get_value_int32(env, argv[7], &p_off) != napi_ok ||
      napi_get_value_int32(env, argv[8], &p_len) != napi_ok || a.fd < 0 || h_off < 0 || h_len < 12 || p_off < 0 || p_len < 0 ||
      (size_t)h_off + (size_t)h_len > a.buf_len || (size_t)p_off + (size_t)p_len > payload_len || !FITS_SCRATCH(h_len, p_len)) {
    return range_error(env, "protectSendParts(session, fd, destination, header, headerOffset, headerLength, payload, payloadOffset, payloadLength): out of range");
  }
  return join_protect_send(env, &a, (uint8_t*)a.buf + h_off, h_len, (uint8_t*)payload + p_off, p_len);
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    return type_error(env, "dup(fd): a descriptor");
  }
  napi_create_int32(env, dup(fd), &out);
  return out;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    return type_error(env, "close(fd): a descriptor");
  }
  close(fd);
  return NULL;
}

/** Bytes of a watcher's buffer per datagram, and ints of its meta. */
#define DATAGRAM_BYTES 2048
#define DATAGRAM_INTS 8
/** Batches read per readable event at most, so that one busy socket does not hold the worker's loop. */
#define ROUNDS 4

typedef struct watcher watcher;

/** What JavaScript holds of a watcher: it points at the watcher while the watcher runs. */
typedef struct {
  watcher* w;
} watch_handle;

/** A descriptor read on a worker's event loop. */
struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback, buffer, meta;
  napi_async_context context;
  napi_async_cleanup_hook_handle hook;
  uint8_t* buf;
  int32_t* ints;
  size_t slots;
  int fd;
  bool stopped;
  watch_handle* handle;
};

static void watcher_closed(uv_handle_t* h) {
  watcher* w = h->data;
  napi_async_cleanup_hook_handle hook = w->hook;
  napi_delete_reference(w->env, w->callback);
  napi_delete_reference(w->env, w->buffer);
  napi_delete_reference(w->env, w->meta);
  napi_async_destroy(w->env, w->context);
  close(w->fd);
  if (w->handle) w->handle->w = NULL;
  if (hook) napi_remove_async_cleanup_hook(hook);
  free(w);
}

static void stop_watcher(watcher* w) {
  if (w->stopped) return;
  w->stopped = true;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t*)&w->poll, watcher_closed);
}

/** The worker is exiting: its watchers close before its loop does. */
static void watcher_cleanup(napi_async_cleanup_hook_handle hook, void* data) {
  watcher* w = data;
  (void)hook;
  stop_watcher(w);
}

static void on_readable(uv_poll_t* h, int status, int events) {
  watcher* w = h->data;
  napi_handle_scope scope;
  (void)events;
  if (status < 0 || w->stopped) return;
  napi_open_handle_scope(w->env, &scope);
  for (int round = 0; round < ROUNDS && !w->stopped; round++) {
    size_t n = 0;
    while (n < w->slots) {
      struct sockaddr_storage sa;
      socklen_t sa_len = sizeof sa;
      int32_t* m = w->ints + n * DATAGRAM_INTS;
      ssize_t got = recvfrom(w->fd, w->buf + n * DATAGRAM_BYTES, DATAGRAM_BYTES, MSG_DONTWAIT, (struct sockaddr*)&sa, &sa_len);
      if (got < 0) break;
      m[0] = (int32_t)got;
      if (sa.ss_family == AF_INET6) {
        struct sockaddr_in6* a = (struct sockaddr_in6*)&sa;
        m[1] = ntohs(a->sin6_port);
        m[2] = 6;
        memcpy(m + 3, &a->sin6_addr, 16);
      } else {
        struct sockaddr_in* a = (struct sockaddr_in*)&sa;
        m[1] = ntohs(a->sin_port);
        m[2] = 4;
        memcpy(m + 3, &a->sin_addr, 4);
      }
      n++;
    }
    if (n == 0) break;
    napi_value cb, global, count, result;
    napi_get_reference_value(w->env, w->callback, &cb);
    napi_get_global(w->env, &global);
    napi_create_uint32(w->env, (uint32_t)n, &count);
    if (napi_make_callback(w->env, w->context, global, cb, 1, &count, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(w->env, &err);
      napi_fatal_exception(w->env, err);
      break;
    }
    if (n < w->slots) break;
  }
  napi_close_handle_scope(w->env, scope);
}

static void release_handle(napi_env env, void* data, void* hint) {
  watch_handle* h = data;
  (void)env;
  (void)hint;
  if (h->w) h->w->handle = NULL;
  free(h);
}

static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], name, out;
  int32_t fd = -1;
  void *buf = NULL, *ints = NULL;
  size_t buf_len = 0, ints_len = 0;
  napi_typedarray_type type;
  napi_valuetype cb_type;
  uv_loop_t* loop;
  watcher* w;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_buffer_info(env, argv[1], &buf, &buf_len) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &ints_len, &ints, NULL, NULL) != napi_ok || type != napi_int32_array ||
      napi_typeof(env, argv[3], &cb_type) != napi_ok || cb_type != napi_function || buf_len < DATAGRAM_BYTES || ints_len < DATAGRAM_INTS) {
    return type_error(env, "watch(fd, buffer, meta, onDatagrams): a descriptor, a Buffer and an Int32Array of room for a datagram at least, a function");
  }
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return fail(env, "no event loop");
  w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->env = env;
  w->fd = fd;
  w->buf = buf;
  w->ints = ints;
  w->slots = buf_len / DATAGRAM_BYTES < ints_len / DATAGRAM_INTS ? buf_len / DATAGRAM_BYTES : ints_len / DATAGRAM_INTS;
  if (uv_poll_init(loop, &w->poll, fd) != 0) {
    free(w);
    return fail(env, "the descriptor cannot be watched");
  }
  w->poll.data = w;
  napi_create_reference(env, argv[3], 1, &w->callback);
  napi_create_reference(env, argv[1], 1, &w->buffer);
  napi_create_reference(env, argv[2], 1, &w->meta);
  napi_create_string_utf8(env, "trtcd:ingress", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_add_async_cleanup_hook(env, watcher_cleanup, w, &w->hook);
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  // unwatch() stops the watcher, which frees itself once libuv has closed it; the handle only points at it until then.
  w->handle = calloc(1, sizeof *w->handle);
  if (!w->handle) return NULL;
  w->handle->w = w;
  if (napi_create_external(env, w->handle, release_handle, NULL, &out) != napi_ok) return NULL;
  return out;
}

static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  watch_handle* h = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], (void**)&h) != napi_ok) {
    return type_error(env, "unwatch(watcher)");
  }
  if (h->w) stop_watcher(h->w);
  return NULL;
}

/** Adds `fn` to the addon's exports as `name`. */
static void export_function(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

static napi_value init(napi_env env, napi_value exports) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  // The library is initialised once per process: the main thread and every media worker load this addon.
  pthread_once(&once, init_once);
  if (init_status != srtp_err_status_ok) return fail(env, "srtp_init failed");
  static const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"create", create},
      {"createGcm", create_gcm},
      {"protect", protect},
      {"destination", destination},
      {"protectSend", protect_send},
      {"protectSendJoined", protect_send_joined},
      {"protectSendParts", protect_send_parts},
      {"createInbound", create_inbound},
      {"unprotect", unprotect},
      {"dup", dup_fd},
      {"close", close_fd},
      {"watch", watch},
      {"unwatch", unwatch},
  };
  for (size_t i = 0; i < sizeof functions / sizeof *functions; i++) export_function(env, exports, functions[i].name, functions[i].fn);
  return exports;
}

NAPI_MODULE(trtcd_srtp, init)
