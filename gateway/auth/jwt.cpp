// JWT and JWKS on OpenSSL 3 EVP. The rules this file enforces are listed in jwt.hpp; the notes
// here say how. Every failed OpenSSL call clears the thread's error queue, because the TLS code
// on the same thread reads that queue (SSL_get_error) and must not see our leftovers.
#include "gateway/auth/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "mcp/jsonrpc.hpp"

namespace mcpgw::auth {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL ownership

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* context) const noexcept { EVP_PKEY_CTX_free(context); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};
struct BnFree {
  void operator()(BIGNUM* number) const noexcept { BN_free(number); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* builder) const noexcept { OSSL_PARAM_BLD_free(builder); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const noexcept { OSSL_PARAM_free(params); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* signature) const noexcept { ECDSA_SIG_free(signature); }
};

using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

const unsigned char* bytes_of(std::string_view text) noexcept {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// ---------------------------------------------------------------------------------------------
// Algorithms and key families

enum class KeyFamily { rsa, ec_p256, ec_p384, ed25519 };

struct AlgorithmName {
  std::string_view name;
  JwtAlgorithm algorithm;
};
constexpr std::array<AlgorithmName, 10> kAlgorithms = {{
    {"RS256", JwtAlgorithm::rs256},
    {"RS384", JwtAlgorithm::rs384},
    {"RS512", JwtAlgorithm::rs512},
    {"PS256", JwtAlgorithm::ps256},
    {"PS384", JwtAlgorithm::ps384},
    {"PS512", JwtAlgorithm::ps512},
    {"ES256", JwtAlgorithm::es256},
    {"ES384", JwtAlgorithm::es384},
    {"EdDSA", JwtAlgorithm::eddsa},
    {"HS256", JwtAlgorithm::hs256},
}};

// The key family an algorithm needs; nullopt for HS256 (a configured secret, never a JWK).
std::optional<KeyFamily> family_of(JwtAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case JwtAlgorithm::rs256:
    case JwtAlgorithm::rs384:
    case JwtAlgorithm::rs512:
    case JwtAlgorithm::ps256:
    case JwtAlgorithm::ps384:
    case JwtAlgorithm::ps512:
      return KeyFamily::rsa;
    case JwtAlgorithm::es256:
      return KeyFamily::ec_p256;
    case JwtAlgorithm::es384:
      return KeyFamily::ec_p384;
    case JwtAlgorithm::eddsa:
      return KeyFamily::ed25519;
    case JwtAlgorithm::hs256:
      return std::nullopt;
  }
  return std::nullopt;
}

// The digest name for EVP; nullptr for EdDSA, which hashes internally.
const char* digest_of(JwtAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case JwtAlgorithm::rs256:
    case JwtAlgorithm::ps256:
    case JwtAlgorithm::es256:
    case JwtAlgorithm::hs256:
      return "SHA256";
    case JwtAlgorithm::rs384:
    case JwtAlgorithm::ps384:
    case JwtAlgorithm::es384:
      return "SHA384";
    case JwtAlgorithm::rs512:
    case JwtAlgorithm::ps512:
      return "SHA512";
    case JwtAlgorithm::eddsa:
      return nullptr;
  }
  return nullptr;
}

bool is_pss(JwtAlgorithm algorithm) noexcept {
  return algorithm == JwtAlgorithm::ps256 || algorithm == JwtAlgorithm::ps384 ||
         algorithm == JwtAlgorithm::ps512;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

// Attacker-chosen strings (kid, alg, iss) in messages: printable ASCII only, bounded.
std::string printable(std::string_view text) {
  constexpr std::size_t kLimit = 64;
  std::string out = "\"";
  for (std::size_t index = 0; index < text.size() && index < kLimit; ++index) {
    const char c = text[index];
    out.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
  }
  if (text.size() > kLimit) {
    out += "...";
  }
  out.push_back('"');
  return out;
}

mcp::Unexpected<JwtError> fail(JwtError::Kind kind, std::string message) {
  return mcp::unexpected(JwtError{kind, std::move(message)});
}

// The kind of JSON problem only: the parser's message quotes the text it read, which would put
// token content into logs.
std::string json_problem(const mcp::DecodeError& error) {
  return std::string(mcp::to_string(error.kind));
}

mcp::DecodeOptions json_options() {
  mcp::DecodeOptions options;
  options.max_depth = 32;  // claims may nest (realm_access.roles), but not deeply
  options.allow_duplicate_keys = false;
  return options;
}

// ---------------------------------------------------------------------------------------------
// The key set

struct Jwk {
  std::optional<std::string> key_id;
  KeyFamily family = KeyFamily::rsa;
  std::optional<JwtAlgorithm> algorithm;  // the JWK's own "alg", when given
  std::shared_ptr<EVP_PKEY> key;
  std::size_t signature_bytes = 0;  // exact signature size: RSA modulus, 2 x EC coordinate, 64
};

class JwkSet final : public KeySet {
 public:
  explicit JwkSet(std::vector<Jwk> keys) : keys_(std::move(keys)) {}
  std::size_t size() const noexcept override { return keys_.size(); }
  std::vector<std::string> key_ids() const override {
    std::vector<std::string> out;
    out.reserve(keys_.size());
    for (const auto& key : keys_) {
      out.push_back(key.key_id.value_or(""));
    }
    return out;
  }
  const std::vector<Jwk>& keys() const noexcept { return keys_; }

 private:
  std::vector<Jwk> keys_;
};

bool usable_for(const Jwk& key, JwtAlgorithm algorithm) noexcept {
  return family_of(algorithm) == key.family &&
         (!key.algorithm.has_value() || *key.algorithm == algorithm);
}

// Why a JWK cannot be used, or the key.
using JwkResult = mcp::Expected<Jwk, std::string>;

mcp::Expected<std::string, std::string> decoded_member(const nlohmann::json& jwk,
                                                       const char* name) {
  const auto found = jwk.find(name);
  if (found == jwk.end() || !found->is_string()) {
    return mcp::unexpected(std::string("'") + name + "' is missing or not a string");
  }
  auto bytes = base64url_decode(found->get_ref<const std::string&>());
  if (!bytes) {
    return mcp::unexpected(std::string("'") + name + "' is not base64url");
  }
  return std::move(*bytes);
}

JwkResult checked_key(EVP_PKEY* raw, Jwk jwk) {
  if (raw == nullptr) {
    ERR_clear_error();
    return mcp::unexpected(std::string("OpenSSL refused the key material"));
  }
  jwk.key = std::shared_ptr<EVP_PKEY>(raw, PkeyFree{});
  const PkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!context || EVP_PKEY_public_check(context.get()) != 1) {
    ERR_clear_error();
    return mcp::unexpected(std::string("the public key is invalid"));
  }
  return jwk;
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* builder) {
  const ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  const PkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

JwkResult rsa_key(const nlohmann::json& object, Jwk jwk) {
  auto modulus = decoded_member(object, "n");
  if (!modulus) {
    return mcp::unexpected(modulus.error());
  }
  auto exponent = decoded_member(object, "e");
  if (!exponent) {
    return mcp::unexpected(exponent.error());
  }
  if (modulus->size() > 1024 || exponent->empty() || exponent->size() > 8) {
    return mcp::unexpected(std::string("RSA key size out of range"));
  }
  const BnPtr n(BN_bin2bn(bytes_of(*modulus), static_cast<int>(modulus->size()), nullptr));
  const BnPtr e(BN_bin2bn(bytes_of(*exponent), static_cast<int>(exponent->size()), nullptr));
  if (!n || !e) {
    ERR_clear_error();
    return mcp::unexpected(std::string("RSA parameters unreadable"));
  }
  // RFC 7518 section 3.3: 2048 bits at least; 8192 bounds the cost of one verification.
  const int bits = BN_num_bits(n.get());
  if (bits < 2048 || bits > 8192) {
    return mcp::unexpected("RSA modulus of " + std::to_string(bits) +
                           " bits (2048 to 8192 accepted)");
  }
  const ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    ERR_clear_error();
    return mcp::unexpected(std::string("OpenSSL could not build the RSA key"));
  }
  jwk.family = KeyFamily::rsa;
  jwk.signature_bytes = static_cast<std::size_t>((bits + 7) / 8);
  return checked_key(from_params("RSA", builder.get()), std::move(jwk));
}

JwkResult ec_key(const nlohmann::json& object, Jwk jwk) {
  const auto curve = object.find("crv");
  if (curve == object.end() || !curve->is_string()) {
    return mcp::unexpected(std::string("'crv' is missing or not a string"));
  }
  const auto& curve_name = curve->get_ref<const std::string&>();
  std::size_t coordinate = 0;
  if (curve_name == "P-256") {
    jwk.family = KeyFamily::ec_p256;
    coordinate = 32;
  } else if (curve_name == "P-384") {
    jwk.family = KeyFamily::ec_p384;
    coordinate = 48;
  } else {
    return mcp::unexpected("unsupported curve " + printable(curve_name));
  }
  auto x = decoded_member(object, "x");
  if (!x) {
    return mcp::unexpected(x.error());
  }
  auto y = decoded_member(object, "y");
  if (!y) {
    return mcp::unexpected(y.error());
  }
  if (x->size() != coordinate || y->size() != coordinate) {
    return mcp::unexpected(std::string("EC coordinates of the wrong length for ") + curve_name);
  }
  // SEC 1 uncompressed point: 0x04 || X || Y. OpenSSL checks that it lies on the curve.
  std::string point;
  point.reserve(1 + 2 * coordinate);
  point.push_back('\x04');
  point += *x;
  point += *y;
  const ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve_name.c_str(),
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ERR_clear_error();
    return mcp::unexpected(std::string("OpenSSL could not build the EC key"));
  }
  jwk.signature_bytes = 2 * coordinate;
  return checked_key(from_params("EC", builder.get()), std::move(jwk));
}

JwkResult okp_key(const nlohmann::json& object, Jwk jwk) {
  const auto curve = object.find("crv");
  if (curve == object.end() || !curve->is_string()) {
    return mcp::unexpected(std::string("'crv' is missing or not a string"));
  }
  if (curve->get_ref<const std::string&>() != "Ed25519") {
    return mcp::unexpected("unsupported curve " + printable(curve->get_ref<const std::string&>()));
  }
  auto x = decoded_member(object, "x");
  if (!x) {
    return mcp::unexpected(x.error());
  }
  if (x->size() != 32) {
    return mcp::unexpected(std::string("Ed25519 public key of the wrong length"));
  }
  jwk.family = KeyFamily::ed25519;
  jwk.signature_bytes = 64;
  return checked_key(
      EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, bytes_of(*x), x->size()),
      std::move(jwk));
}

constexpr std::array<const char*, 9> kPrivateMembers = {"d",  "p",   "q", "dp",  "dq",
                                                        "qi", "oth", "k", "priv"};

JwkResult read_jwk(const nlohmann::json& object) {
  if (!object.is_object()) {
    return mcp::unexpected(std::string("not a JSON object"));
  }
  Jwk jwk;
  if (const auto kid = object.find("kid"); kid != object.end()) {
    if (!kid->is_string()) {
      return mcp::unexpected(std::string("'kid' is not a string"));
    }
    jwk.key_id = kid->get<std::string>();
  }
  const auto type = object.find("kty");
  if (type == object.end() || !type->is_string()) {
    return mcp::unexpected(std::string("'kty' is missing or not a string"));
  }
  const auto& key_type = type->get_ref<const std::string&>();
  if (key_type != "RSA" && key_type != "EC" && key_type != "OKP") {
    // "oct" included: symmetric keys never come from a key set.
    return mcp::unexpected("unsupported 'kty' " + printable(key_type));
  }
  if (const auto use = object.find("use"); use != object.end()) {
    if (!use->is_string() || use->get_ref<const std::string&>() != "sig") {
      return mcp::unexpected(std::string("'use' is not \"sig\""));
    }
  }
  if (const auto operations = object.find("key_ops"); operations != object.end()) {
    if (!operations->is_array() || std::find(operations->begin(), operations->end(),
                                             nlohmann::json("verify")) == operations->end()) {
      return mcp::unexpected(std::string("'key_ops' does not allow \"verify\""));
    }
  }
  for (const char* member : kPrivateMembers) {
    if (object.contains(member)) {
      // A published private key is a leak, not a trust anchor.
      return mcp::unexpected(std::string("it has private key members ('") + member + "')");
    }
  }
  if (const auto algorithm = object.find("alg"); algorithm != object.end()) {
    if (!algorithm->is_string()) {
      return mcp::unexpected(std::string("'alg' is not a string"));
    }
    jwk.algorithm = parse_algorithm(algorithm->get_ref<const std::string&>());
    if (!jwk.algorithm || *jwk.algorithm == JwtAlgorithm::hs256) {
      return mcp::unexpected("unsupported 'alg' " +
                             printable(algorithm->get_ref<const std::string&>()));
    }
  }
  JwkResult result = key_type == "RSA"  ? rsa_key(object, std::move(jwk))
                     : key_type == "EC" ? ec_key(object, std::move(jwk))
                                        : okp_key(object, std::move(jwk));
  if (result && result->algorithm && family_of(*result->algorithm) != result->family) {
    return mcp::unexpected(std::string("'alg' ") + to_string(*result->algorithm) +
                           " does not fit the key type");
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Signatures

bool verify_with_key(const Jwk& jwk, JwtAlgorithm algorithm, std::string_view input,
                     std::string_view signature) {
  std::string der;
  if (jwk.family == KeyFamily::ec_p256 || jwk.family == KeyFamily::ec_p384) {
    // JWS carries R || S (RFC 7518 section 3.4); EVP wants the DER SEQUENCE of two INTEGERs.
    const auto half = static_cast<int>(signature.size() / 2);
    const EcdsaSigPtr pair(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes_of(signature), half, nullptr);
    BIGNUM* s = BN_bin2bn(bytes_of(signature) + half, half, nullptr);
    if (!pair || r == nullptr || s == nullptr || ECDSA_SIG_set0(pair.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ERR_clear_error();
      return false;
    }
    const int length = i2d_ECDSA_SIG(pair.get(), nullptr);
    if (length <= 0) {
      ERR_clear_error();
      return false;
    }
    der.resize(static_cast<std::size_t>(length));
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(pair.get(), &out) != length) {
      ERR_clear_error();
      return false;
    }
    signature = der;
  }
  const MdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
  if (!context || EVP_DigestVerifyInit_ex(context.get(), &key_context, digest_of(algorithm),
                                          nullptr, nullptr, jwk.key.get(), nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  if (is_pss(algorithm) &&
      (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md_name(key_context, digest_of(algorithm), nullptr) != 1)) {
    ERR_clear_error();
    return false;
  }
  const int verified = EVP_DigestVerify(context.get(), bytes_of(signature), signature.size(),
                                        bytes_of(input), input.size());
  if (verified != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool verify_hs256(std::string_view secret, std::string_view input, std::string_view signature) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes_of(input),
           input.size(), mac.data(), &length) == nullptr) {
    ERR_clear_error();
    return false;
  }
  return signature.size() == length &&
         CRYPTO_memcmp(mac.data(), bytes_of(signature), signature.size()) == 0;
}

// ---------------------------------------------------------------------------------------------
// Claims

// A NumericDate (RFC 7519 section 2) as whole seconds; nullopt when it is not a number.
// Fractions are truncated towards the past and values are clamped far outside any real date, so
// the leeway arithmetic below cannot overflow.
std::optional<std::int64_t> numeric_date(const nlohmann::json& value) {
  constexpr std::int64_t kLimit = std::int64_t{1} << 52;
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    return std::clamp(value.get<std::int64_t>(), -kLimit, kLimit);
  }
  if (value.is_number_unsigned()) {
    const auto unsigned_value = value.get<std::uint64_t>();
    return unsigned_value > static_cast<std::uint64_t>(kLimit)
               ? kLimit
               : static_cast<std::int64_t>(unsigned_value);
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (!std::isfinite(number)) {
      return std::nullopt;
    }
    const double clamped =
        std::clamp(std::floor(number), static_cast<double>(-kLimit), static_cast<double>(kLimit));
    return static_cast<std::int64_t>(clamped);
  }
  return std::nullopt;
}

mcp::Expected<std::optional<std::int64_t>, JwtError> date_claim(const nlohmann::json& claims,
                                                                const char* name) {
  const auto found = claims.find(name);
  if (found == claims.end()) {
    return std::optional<std::int64_t>();
  }
  const auto date = numeric_date(*found);
  if (!date) {
    return fail(JwtError::Kind::missing_claim, std::string("'") + name + "' is not a number");
  }
  return std::optional<std::int64_t>(*date);
}

mcp::Expected<std::int64_t, JwtError> check_claims(const nlohmann::json& claims,
                                                   const JwtRules& rules, std::int64_t now) {
  const std::int64_t leeway = rules.leeway.count();
  auto expires = date_claim(claims, "exp");
  if (!expires) {
    return mcp::unexpected(std::move(expires.error()));
  }
  if (!expires->has_value()) {
    return fail(JwtError::Kind::missing_claim, "'exp' is required");
  }
  if (**expires + leeway <= now) {
    return fail(JwtError::Kind::expired,
                "the token expired " + std::to_string(now - **expires) + " s ago");
  }
  auto not_before = date_claim(claims, "nbf");
  if (!not_before) {
    return mcp::unexpected(std::move(not_before.error()));
  }
  if (not_before->has_value() && **not_before - leeway > now) {
    return fail(JwtError::Kind::not_yet_valid,
                "'nbf' lies " + std::to_string(**not_before - now) + " s in the future");
  }
  auto issued = date_claim(claims, "iat");
  if (!issued) {
    return mcp::unexpected(std::move(issued.error()));
  }
  if (issued->has_value() && **issued - leeway > now) {
    return fail(JwtError::Kind::not_yet_valid,
                "'iat' lies " + std::to_string(**issued - now) + " s in the future");
  }
  const auto issuer = claims.find("iss");
  if (issuer == claims.end() || !issuer->is_string()) {
    return fail(JwtError::Kind::wrong_issuer, "'iss' is missing or not a string");
  }
  if (issuer->get_ref<const std::string&>() != rules.issuer) {
    return fail(JwtError::Kind::wrong_issuer, "'iss' " +
                                                  printable(issuer->get_ref<const std::string&>()) +
                                                  " is not " + printable(rules.issuer));
  }
  const auto audience = claims.find("aud");
  if (audience == claims.end()) {
    return fail(JwtError::Kind::wrong_audience, "'aud' is missing");
  }
  const auto accepted = [&](const nlohmann::json& value) {
    return value.is_string() &&
           std::find(rules.audiences.begin(), rules.audiences.end(),
                     value.get_ref<const std::string&>()) != rules.audiences.end();
  };
  if (audience->is_string()) {
    if (!accepted(*audience)) {
      return fail(JwtError::Kind::wrong_audience,
                  "'aud' " + printable(audience->get_ref<const std::string&>()) +
                      " is not an accepted audience");
    }
  } else if (audience->is_array()) {
    if (!std::all_of(audience->begin(), audience->end(),
                     [](const nlohmann::json& value) { return value.is_string(); })) {
      return fail(JwtError::Kind::missing_claim, "'aud' holds a value that is not a string");
    }
    if (std::none_of(audience->begin(), audience->end(), accepted)) {
      return fail(JwtError::Kind::wrong_audience, "'aud' names no accepted audience");
    }
  } else {
    return fail(JwtError::Kind::missing_claim, "'aud' is neither a string nor an array");
  }
  return **expires;
}

}  // namespace

// -----------------------------------------------------------------------------------------------

std::optional<JwtAlgorithm> parse_algorithm(std::string_view name) {
  for (const auto& entry : kAlgorithms) {
    if (entry.name == name) {
      return entry.algorithm;
    }
  }
  return std::nullopt;
}

const char* to_string(JwtAlgorithm algorithm) noexcept {
  for (const auto& entry : kAlgorithms) {
    if (entry.algorithm == algorithm) {
      return entry.name.data();
    }
  }
  return "unknown";
}

const char* to_string(JwtError::Kind kind) noexcept {
  switch (kind) {
    case JwtError::Kind::malformed:
      return "malformed";
    case JwtError::Kind::algorithm:
      return "algorithm";
    case JwtError::Kind::unknown_key:
      return "unknown_key";
    case JwtError::Kind::ambiguous_key:
      return "ambiguous_key";
    case JwtError::Kind::bad_signature:
      return "bad_signature";
    case JwtError::Kind::expired:
      return "expired";
    case JwtError::Kind::not_yet_valid:
      return "not_yet_valid";
    case JwtError::Kind::wrong_issuer:
      return "wrong_issuer";
    case JwtError::Kind::wrong_audience:
      return "wrong_audience";
    case JwtError::Kind::missing_claim:
      return "missing_claim";
  }
  return "unknown";
}

mcp::Expected<std::shared_ptr<const KeySet>, std::string> parse_jwks(
    std::string_view json, std::vector<std::string>* skipped) {
  if (json.size() > kMaxJwksBytes) {
    return mcp::unexpected("the JWKS has " + std::to_string(json.size()) + " bytes (at most " +
                           std::to_string(kMaxJwksBytes) + ")");
  }
  mcp::DecodeOptions options;
  options.max_depth = 16;
  auto document = mcp::parse_json(json, options);
  if (!document) {
    return mcp::unexpected("the JWKS is not valid JSON: " + document.error().message);
  }
  if (!document->is_object()) {
    return mcp::unexpected(std::string("the JWKS is not a JSON object"));
  }
  const auto keys = document->find("keys");
  if (keys == document->end() || !keys->is_array()) {
    return mcp::unexpected(std::string("the JWKS has no \"keys\" array"));
  }
  if (keys->size() > kMaxJwksKeys) {
    return mcp::unexpected("the JWKS has " + std::to_string(keys->size()) + " keys (at most " +
                           std::to_string(kMaxJwksKeys) + ")");
  }
  std::vector<Jwk> usable;
  std::size_t index = 0;
  for (const auto& entry : *keys) {
    auto key = read_jwk(entry);
    if (key) {
      usable.push_back(std::move(*key));
    } else if (skipped != nullptr) {
      std::string label = "key #" + std::to_string(index);
      if (entry.is_object()) {
        if (const auto kid = entry.find("kid"); kid != entry.end() && kid->is_string()) {
          label += " (kid " + printable(kid->get_ref<const std::string&>()) + ")";
        }
      }
      skipped->push_back(label + " skipped: " + key.error());
    }
    ++index;
  }
  if (usable.empty()) {
    return mcp::unexpected("the JWKS has no usable key (" + std::to_string(keys->size()) +
                           " listed)");
  }
  return std::shared_ptr<const KeySet>(std::make_shared<JwkSet>(std::move(usable)));
}

mcp::Expected<UnverifiedJwt, JwtError> parse_jwt(std::string_view token) {
  if (token.empty()) {
    return fail(JwtError::Kind::malformed, "the token is empty");
  }
  if (token.size() > kMaxTokenBytes) {
    return fail(JwtError::Kind::malformed, "the token has " + std::to_string(token.size()) +
                                               " bytes (at most " + std::to_string(kMaxTokenBytes) +
                                               ")");
  }
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail(JwtError::Kind::malformed, "a JWS has exactly three dot-separated parts");
  }
  const auto header_text = base64url_decode(token.substr(0, first));
  const auto payload_text = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature) {
    return fail(JwtError::Kind::malformed, "a part is not unpadded base64url");
  }
  auto header = mcp::parse_json(*header_text, json_options());
  if (!header || !header->is_object()) {
    return fail(JwtError::Kind::malformed,
                header ? std::string("the header is not a JSON object")
                       : "the header is not valid JSON (" + json_problem(header.error()) + ")");
  }
  auto payload = mcp::parse_json(*payload_text, json_options());
  if (!payload || !payload->is_object()) {
    return fail(JwtError::Kind::malformed,
                payload ? std::string("the payload is not a JSON object")
                        : "the payload is not valid JSON (" + json_problem(payload.error()) + ")");
  }
  UnverifiedJwt out;
  const auto algorithm = header->find("alg");
  if (algorithm == header->end() || !algorithm->is_string()) {
    return fail(JwtError::Kind::malformed, "the header has no string 'alg'");
  }
  out.algorithm = algorithm->get<std::string>();
  if (const auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) {
      return fail(JwtError::Kind::malformed, "the header's 'kid' is not a string");
    }
    out.key_id = kid->get<std::string>();
  }
  if (const auto issuer = payload->find("iss"); issuer != payload->end() && issuer->is_string()) {
    out.issuer = issuer->get<std::string>();
  }
  out.header = std::move(*header);
  out.payload = std::move(*payload);
  out.signing_input = std::string(token.substr(0, second));
  out.signature = std::move(*signature);
  return out;
}

mcp::Expected<VerifiedJwt, JwtError> verify_jwt(const UnverifiedJwt& token, const KeySet* keys,
                                                const JwtRules& rules, std::int64_t now) {
  // 1. The algorithm: one we implement, allowed for this source, and no extension we would
  //    have to understand.
  const auto algorithm = parse_algorithm(token.algorithm);
  if (!algorithm) {
    return fail(JwtError::Kind::algorithm,
                "algorithm " + printable(token.algorithm) + " is not accepted");
  }
  const bool allowed = rules.algorithms.empty()
                           ? *algorithm != JwtAlgorithm::hs256
                           : std::find(rules.algorithms.begin(), rules.algorithms.end(),
                                       *algorithm) != rules.algorithms.end();
  if (!allowed || (*algorithm == JwtAlgorithm::hs256 && rules.hs256_secret.empty())) {
    return fail(JwtError::Kind::algorithm, std::string("algorithm ") + to_string(*algorithm) +
                                               " is not allowed for this issuer");
  }
  if (token.header.contains("crit")) {
    return fail(JwtError::Kind::algorithm, "the 'crit' header names extensions we do not support");
  }

  VerifiedJwt out;
  out.algorithm = *algorithm;
  // 2 and 3. The key, chosen by the algorithm's family and the kid, and the signature.
  if (*algorithm == JwtAlgorithm::hs256) {
    if (!verify_hs256(rules.hs256_secret, token.signing_input, token.signature)) {
      return fail(JwtError::Kind::bad_signature, "the HS256 signature does not verify");
    }
  } else {
    const auto* set = dynamic_cast<const JwkSet*>(keys);
    if (set == nullptr) {
      return fail(JwtError::Kind::unknown_key, "no key set is loaded for this issuer");
    }
    const Jwk* chosen = nullptr;
    std::size_t candidates = 0;
    if (token.key_id) {
      bool kid_known = false;
      for (const auto& key : set->keys()) {
        if (key.key_id == token.key_id) {
          kid_known = true;
          if (usable_for(key, *algorithm)) {
            chosen = &key;
            ++candidates;
          }
        }
      }
      if (!kid_known) {
        return fail(JwtError::Kind::unknown_key, "no key with kid " + printable(*token.key_id));
      }
      if (candidates == 0) {
        return fail(JwtError::Kind::algorithm, "key " + printable(*token.key_id) +
                                                   " is not usable with " + to_string(*algorithm));
      }
    } else {
      for (const auto& key : set->keys()) {
        if (usable_for(key, *algorithm)) {
          chosen = &key;
          ++candidates;
        }
      }
      if (candidates == 0) {
        return fail(JwtError::Kind::unknown_key,
                    std::string("no kid and no key for ") + to_string(*algorithm));
      }
    }
    if (candidates > 1) {
      return fail(JwtError::Kind::ambiguous_key,
                  std::to_string(candidates) + " keys fit " + to_string(*algorithm) +
                      (token.key_id ? " and this kid" : " and the token names no kid"));
    }
    if (token.signature.size() != chosen->signature_bytes) {
      return fail(JwtError::Kind::bad_signature,
                  "the signature has " + std::to_string(token.signature.size()) + " bytes, not " +
                      std::to_string(chosen->signature_bytes));
    }
    if (!verify_with_key(*chosen, *algorithm, token.signing_input, token.signature)) {
      return fail(JwtError::Kind::bad_signature,
                  std::string("the ") + to_string(*algorithm) + " signature does not verify");
    }
    out.key_id = chosen->key_id.value_or("");
  }

  // 4. The claims.
  auto expires = check_claims(token.payload, rules, now);
  if (!expires) {
    return mcp::unexpected(std::move(expires.error()));
  }
  out.expires_at = *expires;
  out.claims = token.payload;
  return out;
}

}  // namespace mcpgw::auth
