// trtcd's SRTP accelerator: RTP protection in place, for the SFU's RtpWriter and its media workers. AES_CM_128_HMAC_SHA1_80
// by libsrtp2 (Debian's libsrtp2-dev); AEAD_AES_128_GCM (RFC 7714) by the OpenSSL Node itself carries, with one cipher
// context per session, because Debian's libsrtp2 does GCM through NSS, whose per-packet contexts serialise threads.
// Built at install by scripts/build-native.mjs when the library and Node's headers are present; without it trtcd
// protects with node:crypto (src/realtime/media/srtp-protect.ts). Six functions:
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool aead = false;
  void* key = NULL;
  size_t key_len = 0;
  srtp_policy_t policy;
  session* s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_bool(env, argv[0], &aead) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &key, &key_len) != napi_ok || key_len != (aead ? 28u : 30u)) {
    return type_error(env, "create(aead, masterKeyAndSalt): 28 bytes for AEAD_AES_128_GCM, 30 for AES_CM_128_HMAC_SHA1_80");
  }
  memset(&policy, 0, sizeof policy);
  if (aead) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
  }
  policy.ssrc.type = ssrc_any_outbound;
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

static napi_value protect(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* s = NULL;
  void* buf = NULL;
  size_t buf_len = 0;
  int32_t offset = 0, length = 0;
  int len;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_external(env, argv[0], &s) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &buf, &buf_len) != napi_ok || napi_get_value_int32(env, argv[2], &offset) != napi_ok ||
      napi_get_value_int32(env, argv[3], &length) != napi_ok || offset < 0 || length < 12 || (size_t)offset + (size_t)length + 16 > buf_len) {
    return range_error(env, "protect(session, buffer, offset, length): the packet and room for its tag must fit in the buffer");
  }
  len = length;
  if (protect_any(s, (uint8_t*)buf + offset, &len) != 0) len = -1;
  napi_create_int32(env, len, &out);
  return out;
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

static napi_value protect_send_joined(napi_env env, napi_callback_info info) {
  static __thread uint8_t scratch[2048];
  size_t argc = 8;
  napi_value argv[8];
  send_args a = {.fd = -1};
  int32_t h_off = 0, h_len = 0, p_off = 0, p_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8 || !read_send_args(env, argv, &a) ||
      napi_get_value_int32(env, argv[4], &h_off) != napi_ok || napi_get_value_int32(env, argv[5], &h_len) != napi_ok ||
      napi_get_value_int32(env, argv[6], &p_off) != napi_ok || napi_get_value_int32(env, argv[7], &p_len) != napi_ok || a.fd < 0 || h_off < 0 ||
      h_len < 12 || p_off < 0 || p_len < 0 || (size_t)h_off + (size_t)h_len > a.buf_len || (size_t)p_off + (size_t)p_len > a.buf_len ||
      (size_t)h_len + (size_t)p_len + 16 > sizeof scratch) {
    return range_error(env, "protectSendJoined(session, fd, destination, buffer, headerOffset, headerLength, payloadOffset, payloadLength): out of range");
  }
  memcpy(scratch, (uint8_t*)a.buf + h_off, (size_t)h_len);
  memcpy(scratch + h_len, (uint8_t*)a.buf + p_off, (size_t)p_len);
  return protect_and_send(env, a.session, a.fd, a.destination, scratch, h_len + p_len);
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
  export_function(env, exports, "create", create);
  export_function(env, exports, "createGcm", create_gcm);
  export_function(env, exports, "protect", protect);
  export_function(env, exports, "destination", destination);
  export_function(env, exports, "protectSend", protect_send);
  export_function(env, exports, "protectSendJoined", protect_send_joined);
  return exports;
}

NAPI_MODULE(trtcd_srtp, init)
