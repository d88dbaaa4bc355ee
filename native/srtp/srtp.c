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
    napi_throw_type_error(env, NULL, "createGcm(sessionKey, sessionSalt): 16 and 12 bytes");
    return NULL;
  }
  s = calloc(1, sizeof *s);
  if (!s) return NULL;
  memcpy(s->salt, salt, 12);
  s->gcm = EVP_CIPHER_CTX_new();
  if (!s->gcm || EVP_EncryptInit_ex(s->gcm, EVP_aes_128_gcm(), NULL, key, NULL) != 1) {
    release(env, s, NULL);
    napi_throw_error(env, NULL, "AES-128-GCM is not available");
    return NULL;
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
    napi_throw_type_error(env, NULL, "create(aead, masterKeyAndSalt): 28 bytes for AEAD_AES_128_GCM, 30 for AES_CM_128_HMAC_SHA1_80");
    return NULL;
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
    napi_throw_error(env, NULL, "srtp_create failed");
    return NULL;
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
    napi_throw_range_error(env, NULL, "protect(session, buffer, offset, length): the packet and room for its tag must fit in the buffer");
    return NULL;
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
    napi_throw_type_error(env, NULL, "destination(ip, port): an IP address and a port 1-65535");
    return NULL;
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
    napi_throw_type_error(env, NULL, "destination(ip, port): not an IPv4 or IPv6 address");
    return NULL;
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

static napi_value protect_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_valuetype session_type;
  void* s = NULL;
  void* sa = NULL;
  void* buf = NULL;
  size_t buf_len = 0;
  int32_t fd = -1, offset = 0, length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || napi_typeof(env, argv[0], &session_type) != napi_ok ||
      (session_type != napi_null && napi_get_value_external(env, argv[0], &s) != napi_ok) || napi_get_value_int32(env, argv[1], &fd) != napi_ok ||
      napi_get_value_external(env, argv[2], &sa) != napi_ok || napi_get_buffer_info(env, argv[3], &buf, &buf_len) != napi_ok ||
      napi_get_value_int32(env, argv[4], &offset) != napi_ok || napi_get_value_int32(env, argv[5], &length) != napi_ok || fd < 0 || offset < 0 ||
      length < 12 || (size_t)offset + (size_t)length + 16 > buf_len) {
    napi_throw_range_error(env, NULL, "protectSend(session, fd, destination, buffer, offset, length): the packet and room for its tag must fit in the buffer");
    return NULL;
  }
  return protect_and_send(env, s, fd, sa, (uint8_t*)buf + offset, length);
}

static srtp_err_status_t init_status;

static void init_once(void) {
  init_status = srtp_init();
}

static napi_value protect_send_joined(napi_env env, napi_callback_info info) {
  static __thread uint8_t scratch[2048];
  size_t argc = 8;
  napi_value argv[8];
  napi_valuetype session_type;
  void* s = NULL;
  void* sa = NULL;
  void* buf = NULL;
  size_t buf_len = 0;
  int32_t fd = -1, h_off = 0, h_len = 0, p_off = 0, p_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8 || napi_typeof(env, argv[0], &session_type) != napi_ok ||
      (session_type != napi_null && napi_get_value_external(env, argv[0], &s) != napi_ok) || napi_get_value_int32(env, argv[1], &fd) != napi_ok ||
      napi_get_value_external(env, argv[2], &sa) != napi_ok || napi_get_buffer_info(env, argv[3], &buf, &buf_len) != napi_ok ||
      napi_get_value_int32(env, argv[4], &h_off) != napi_ok || napi_get_value_int32(env, argv[5], &h_len) != napi_ok ||
      napi_get_value_int32(env, argv[6], &p_off) != napi_ok || napi_get_value_int32(env, argv[7], &p_len) != napi_ok || fd < 0 || h_off < 0 ||
      h_len < 12 || p_off < 0 || p_len < 0 || (size_t)h_off + (size_t)h_len > buf_len || (size_t)p_off + (size_t)p_len > buf_len ||
      (size_t)h_len + (size_t)p_len + 16 > sizeof scratch) {
    napi_throw_range_error(env, NULL, "protectSendJoined(session, fd, destination, buffer, headerOffset, headerLength, payloadOffset, payloadLength): out of range");
    return NULL;
  }
  memcpy(scratch, (uint8_t*)buf + h_off, (size_t)h_len);
  memcpy(scratch + h_len, (uint8_t*)buf + p_off, (size_t)p_len);
  return protect_and_send(env, s, fd, sa, scratch, h_len + p_len);
}

static napi_value init(napi_env env, napi_value exports) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  napi_value f;
  // The library is initialised once per process: the main thread and every media worker load this addon.
  pthread_once(&once, init_once);
  if (init_status != srtp_err_status_ok) {
    napi_throw_error(env, NULL, "srtp_init failed");
    return NULL;
  }
  napi_create_function(env, "create", NAPI_AUTO_LENGTH, create, NULL, &f);
  napi_set_named_property(env, exports, "create", f);
  napi_create_function(env, "createGcm", NAPI_AUTO_LENGTH, create_gcm, NULL, &f);
  napi_set_named_property(env, exports, "createGcm", f);
  napi_create_function(env, "protect", NAPI_AUTO_LENGTH, protect, NULL, &f);
  napi_set_named_property(env, exports, "protect", f);
  napi_create_function(env, "destination", NAPI_AUTO_LENGTH, destination, NULL, &f);
  napi_set_named_property(env, exports, "destination", f);
  napi_create_function(env, "protectSend", NAPI_AUTO_LENGTH, protect_send, NULL, &f);
  napi_set_named_property(env, exports, "protectSend", f);
  napi_create_function(env, "protectSendJoined", NAPI_AUTO_LENGTH, protect_send_joined, NULL, &f);
  napi_set_named_property(env, exports, "protectSendJoined", f);
  return exports;
}

NAPI_MODULE(trtcd_srtp, init)
