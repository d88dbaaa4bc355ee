// trtcd's SRTP accelerator: RTP protection in place by libsrtp2 (Debian's libsrtp2-dev), for the SFU's RtpWriter.
// Built at install by scripts/build-native.mjs when the library and Node's headers are present; without it trtcd
// protects with node:crypto (src/realtime/media/srtp-protect.ts). Four functions:
//   create(aead: boolean, masterKeyAndSalt: Buffer) -> session   (AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80)
//   protect(session, buffer, offset, length) -> protected length (the tag is written after the packet)
//   destination(ip: string, port: number) -> an IPv4 or IPv6 socket address
//   protectSend(session | null, fd, destination, buffer, offset, length) -> bytes sent; -1 when protection failed,
//     -2 when the socket refused the datagram (full or closed). The media workers send on the UDP socket of a
//     peer connection's nominated ICE pair by its descriptor (a datagram send is one system call, safe from any thread).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <node_api.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void release(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  srtp_dealloc((srtp_t)data);
}

static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool aead = false;
  void* key = NULL;
  size_t key_len = 0;
  napi_value session;
  srtp_policy_t policy;
  srtp_t s;
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
  if (srtp_create(&s, &policy) != srtp_err_status_ok) {
    napi_throw_error(env, NULL, "srtp_create failed");
    return NULL;
  }
  if (napi_create_external(env, s, release, NULL, &session) != napi_ok) {
    srtp_dealloc(s);
    return NULL;
  }
  return session;
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
  if (srtp_protect((srtp_t)s, (char*)buf + offset, &len) != srtp_err_status_ok) len = -1;
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

static napi_value protect_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_valuetype session_type;
  void* s = NULL;
  void* sa = NULL;
  void* buf = NULL;
  size_t buf_len = 0;
  int32_t fd = -1, offset = 0, length = 0;
  int len;
  ssize_t sent;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || napi_typeof(env, argv[0], &session_type) != napi_ok ||
      (session_type != napi_null && napi_get_value_external(env, argv[0], &s) != napi_ok) || napi_get_value_int32(env, argv[1], &fd) != napi_ok ||
      napi_get_value_external(env, argv[2], &sa) != napi_ok || napi_get_buffer_info(env, argv[3], &buf, &buf_len) != napi_ok ||
      napi_get_value_int32(env, argv[4], &offset) != napi_ok || napi_get_value_int32(env, argv[5], &length) != napi_ok || fd < 0 || offset < 0 ||
      length < 12 || (size_t)offset + (size_t)length + 16 > buf_len) {
    napi_throw_range_error(env, NULL, "protectSend(session, fd, destination, buffer, offset, length): the packet and room for its tag must fit in the buffer");
    return NULL;
  }
  len = length;
  if (s && srtp_protect((srtp_t)s, (char*)buf + offset, &len) != srtp_err_status_ok) {
    napi_create_int32(env, -1, &out);
    return out;
  }
  sent = sendto(fd, (char*)buf + offset, (size_t)len, MSG_DONTWAIT, (struct sockaddr*)sa,
                ((struct sockaddr*)sa)->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  napi_create_int32(env, sent < 0 ? -2 : (int32_t)sent, &out);
  return out;
}

static srtp_err_status_t init_status;

static void init_once(void) {
  init_status = srtp_init();
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
  napi_create_function(env, "protect", NAPI_AUTO_LENGTH, protect, NULL, &f);
  napi_set_named_property(env, exports, "protect", f);
  napi_create_function(env, "destination", NAPI_AUTO_LENGTH, destination, NULL, &f);
  napi_set_named_property(env, exports, "destination", f);
  napi_create_function(env, "protectSend", NAPI_AUTO_LENGTH, protect_send, NULL, &f);
  napi_set_named_property(env, exports, "protectSend", f);
  return exports;
}

NAPI_MODULE(trtcd_srtp, init)
