// trtcd's SRTP accelerator: RTP protection in place by libsrtp2 (Debian's libsrtp2-dev), for the SFU's RtpWriter.
// Built at install by scripts/build-native.mjs when the library and Node's headers are present; without it trtcd
// protects with node:crypto (src/realtime/media/srtp-protect.ts). Two functions:
//   create(aead: boolean, masterKeyAndSalt: Buffer) -> session   (AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80)
//   protect(session, buffer, offset, length) -> protected length (the tag is written after the packet)
#include <node_api.h>
#include <srtp2/srtp.h>
#include <string.h>

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

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  if (srtp_init() != srtp_err_status_ok) {
    napi_throw_error(env, NULL, "srtp_init failed");
    return NULL;
  }
  napi_create_function(env, "create", NAPI_AUTO_LENGTH, create, NULL, &f);
  napi_set_named_property(env, exports, "create", f);
  napi_create_function(env, "protect", NAPI_AUTO_LENGTH, protect, NULL, &f);
  napi_set_named_property(env, exports, "protect", f);
  return exports;
}

NAPI_MODULE(trtcd_srtp, init)
