// Keys generated at test time with OpenSSL and tokens signed with them (EVP_DigestSign), for the
// auth tests and bench/auth_bench. Failures of OpenSSL itself throw: they mean a broken
// installation, not a finding.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/auth/jwt.hpp"

namespace mcpgw::auth::test {

enum class KeyKind { rsa, p256, p384, ed25519 };

struct TestKey {
  KeyKind kind = KeyKind::rsa;
  std::shared_ptr<EVP_PKEY> key;
};

inline void require(bool condition, const char* what) {
  if (!condition) {
    throw std::runtime_error(std::string("OpenSSL failed: ") + what);
  }
}

inline TestKey generate_key(KeyKind kind, std::size_t rsa_bits = 2048) {
  EVP_PKEY* key = nullptr;
  switch (kind) {
    case KeyKind::rsa:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", rsa_bits);
      break;
    case KeyKind::p256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyKind::p384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyKind::ed25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  require(key != nullptr, "key generation");
  return TestKey{kind, std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free)};
}

inline std::string bn_bytes(const BIGNUM* number, int pad = 0) {
  const int size = pad > 0 ? pad : BN_num_bytes(number);
  std::string out(static_cast<std::size_t>(size), '\0');
  require(BN_bn2binpad(number, reinterpret_cast<unsigned char*>(out.data()), size) == size,
          "BN_bn2binpad");
  return out;
}

inline std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* number = nullptr;
  require(EVP_PKEY_get_bn_param(key, name, &number) == 1, name);
  std::string out = bn_bytes(number, pad);
  BN_free(number);
  return out;
}

// The public JWK of a key, with `kid` unless it is empty.
inline nlohmann::json public_jwk(const TestKey& key, std::string_view kid = {}) {
  nlohmann::json jwk = nlohmann::json::object();
  switch (key.kind) {
    case KeyKind::rsa:
      jwk["kty"] = "RSA";
      jwk["n"] = base64url_encode(bn_param(key.key.get(), OSSL_PKEY_PARAM_RSA_N));
      jwk["e"] = base64url_encode(bn_param(key.key.get(), OSSL_PKEY_PARAM_RSA_E));
      break;
    case KeyKind::p256:
    case KeyKind::p384: {
      const int size = key.kind == KeyKind::p256 ? 32 : 48;
      jwk["kty"] = "EC";
      jwk["crv"] = key.kind == KeyKind::p256 ? "P-256" : "P-384";
      jwk["x"] = base64url_encode(bn_param(key.key.get(), OSSL_PKEY_PARAM_EC_PUB_X, size));
      jwk["y"] = base64url_encode(bn_param(key.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, size));
      break;
    }
    case KeyKind::ed25519: {
      std::string raw(32, '\0');
      std::size_t length = raw.size();
      require(EVP_PKEY_get_raw_public_key(
                  key.key.get(), reinterpret_cast<unsigned char*>(raw.data()), &length) == 1 &&
                  length == 32,
              "EVP_PKEY_get_raw_public_key");
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = base64url_encode(raw);
      break;
    }
  }
  if (!kid.empty()) {
    jwk["kid"] = std::string(kid);
  }
  return jwk;
}

inline nlohmann::json jwks_of(std::initializer_list<nlohmann::json> keys) {
  return nlohmann::json{{"keys", nlohmann::json::array_t(keys)}};
}

// The public key as PEM (SubjectPublicKeyInfo) or DER bytes: what an attacker would use as an
// HMAC secret in an algorithm confusion attack.
inline std::string public_key_pem(const TestKey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  require(bio != nullptr && PEM_write_bio_PUBKEY(bio, key.key.get()) == 1, "PEM_write_bio_PUBKEY");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

inline std::string public_key_der(const TestKey& key) {
  unsigned char* data = nullptr;
  const int size = i2d_PUBKEY(key.key.get(), &data);
  require(size > 0, "i2d_PUBKEY");
  std::string out(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
  OPENSSL_free(data);
  return out;
}

inline std::string hs256_signature(std::string_view secret, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  require(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
               &length) != nullptr,
          "HMAC");
  return std::string(reinterpret_cast<const char*>(mac), length);
}

// A JWS signature over `input` with `algorithm` ("RS256" ... "EdDSA"); ES* as R || S.
// `pkcs1_for_pss` signs a PS* algorithm with PKCS#1 v1.5 padding instead (a wrong signature).
inline std::string signature(std::string_view algorithm, const TestKey& key, std::string_view input,
                             bool pkcs1_for_pss = false) {
  const char* digest = nullptr;
  if (algorithm != "EdDSA") {
    const std::string_view bits = algorithm.substr(2);
    digest = bits == "256" ? "SHA256" : bits == "384" ? "SHA384" : "SHA512";
  }
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_PKEY_CTX* key_context = nullptr;
  require(context != nullptr && EVP_DigestSignInit_ex(context, &key_context, digest, nullptr,
                                                      nullptr, key.key.get(), nullptr) == 1,
          "EVP_DigestSignInit_ex");
  if (algorithm.substr(0, 2) == "PS" && !pkcs1_for_pss) {
    require(EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) == 1 &&
                EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) == 1,
            "PSS parameters");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t length = 0;
  require(EVP_DigestSign(context, nullptr, &length, data, input.size()) == 1, "EVP_DigestSign");
  std::string out(length, '\0');
  require(EVP_DigestSign(context, reinterpret_cast<unsigned char*>(out.data()), &length, data,
                         input.size()) == 1,
          "EVP_DigestSign");
  out.resize(length);
  EVP_MD_CTX_free(context);
  if (algorithm.substr(0, 2) == "ES") {
    const int coordinate = algorithm == "ES256" ? 32 : 48;
    const auto* der = reinterpret_cast<const unsigned char*>(out.data());
    ECDSA_SIG* pair = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(out.size()));
    require(pair != nullptr, "d2i_ECDSA_SIG");
    out =
        bn_bytes(ECDSA_SIG_get0_r(pair), coordinate) + bn_bytes(ECDSA_SIG_get0_s(pair), coordinate);
    ECDSA_SIG_free(pair);
  }
  return out;
}

inline std::string encode_part(const nlohmann::json& value) {
  return base64url_encode(value.dump());
}

// header.payload signed by `sign` (given the signing input, returns raw signature bytes).
template <class Sign>
std::string make_token(const nlohmann::json& header, const nlohmann::json& payload, Sign sign) {
  const std::string input = encode_part(header) + "." + encode_part(payload);
  return input + "." + base64url_encode(sign(input));
}

inline std::string signed_token(std::string_view algorithm, const TestKey& key,
                                std::string_view kid, const nlohmann::json& payload) {
  nlohmann::json header = {{"alg", std::string(algorithm)}, {"typ", "JWT"}};
  if (!kid.empty()) {
    header["kid"] = std::string(kid);
  }
  return make_token(header, payload,
                    [&](std::string_view input) { return signature(algorithm, key, input); });
}

inline std::string hs256_token(std::string_view secret, const nlohmann::json& payload) {
  return make_token(nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}}, payload,
                    [&](std::string_view input) { return hs256_signature(secret, input); });
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Claims of a token valid for ten minutes from `now`.
inline nlohmann::json claims_at(std::int64_t now, std::string_view issuer = "https://idp.test",
                                std::string_view audience = "mcpgw",
                                std::string_view subject = "alice") {
  return nlohmann::json{{"iss", std::string(issuer)},
                        {"aud", std::string(audience)},
                        {"sub", std::string(subject)},
                        {"iat", now},
                        {"exp", now + 600}};
}

// Process-wide keys: RSA generation is slow, and one set serves every test.
struct TestKeys {
  TestKey rsa = generate_key(KeyKind::rsa);
  TestKey rsa_other = generate_key(KeyKind::rsa);
  TestKey p256 = generate_key(KeyKind::p256);
  TestKey p256_other = generate_key(KeyKind::p256);
  TestKey p384 = generate_key(KeyKind::p384);
  TestKey p384_other = generate_key(KeyKind::p384);
  TestKey ed25519 = generate_key(KeyKind::ed25519);
  TestKey ed25519_other = generate_key(KeyKind::ed25519);
};

inline const TestKeys& keys() {
  static const TestKeys instance;
  return instance;
}

}  // namespace mcpgw::auth::test
