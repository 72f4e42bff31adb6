// JSON Web Tokens (RFC 7519, compact JWS of RFC 7515) and JSON Web Key Sets (RFC 7517),
// verified with OpenSSL EVP only: no crypto of our own, no third-party JWT library.
//
// What is accepted, and why the rest is refused:
// - Algorithms RS256/384/512, PS256/384/512 (salt length = hash length), ES256/ES384 (raw
//   R||S signatures of exactly 64/96 bytes, converted to DER for EVP), EdDSA (Ed25519), and
//   HS256 only with a secret from the configuration. `none` and every other value are refused.
// - The algorithm decides the key family, never the key: an RS* token needs an RSA key, ES256 a
//   P-256 key, and so on; HS256 uses only the configured secret, never a JWKS entry, so an RSA
//   public key can never serve as an HMAC secret (algorithm confusion). A JWK whose own `alg`
//   or `use` (other than "sig") disagrees is not used for the token.
// - Structure: exactly three base64url parts without padding, header and payload JSON objects
//   (duplicate keys refused, depth limited), the token at most kMaxTokenBytes. A `crit` header
//   is refused (we understand no extensions); `jku`, `x5u`, `jwk` and `x5c` are never followed.
// - Claims: `iss` must equal the source's issuer; `aud` (string or array) must contain one of
//   the accepted audiences; `exp` is required, and `exp`, `nbf` and `iat` are checked with the
//   leeway (iat may not lie in the future beyond it). Numeric dates must be numbers.
// - Key choice: the token's `kid` selects the key; without a `kid`, the one key of the right
//   family is used, and several candidates are refused as ambiguous.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/base64url.hpp"
#include "mcp/expected.hpp"

namespace mcpgw::auth {

inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;
inline constexpr std::size_t kMaxJwksBytes = 1024 * 1024;
inline constexpr std::size_t kMaxJwksKeys = 256;

enum class JwtAlgorithm { rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, eddsa, hs256 };

// "RS256" ... "EdDSA", "HS256"; nullopt for anything else ("none" included).
std::optional<JwtAlgorithm> parse_algorithm(std::string_view name);
const char* to_string(JwtAlgorithm algorithm) noexcept;

// Why a token was refused. Messages are for logs: they never contain the token or a signature.
struct JwtError {
  enum class Kind {
    malformed,      // structure, base64url, JSON, size
    algorithm,      // none, unknown, not allowed for this source, crit header
    unknown_key,    // no key with this kid (the caller may refresh the key set and retry)
    ambiguous_key,  // no kid and several keys of the right family
    bad_signature,
    expired,        // exp + leeway <= now
    not_yet_valid,  // nbf - leeway > now, or iat - leeway > now
    wrong_issuer,
    wrong_audience,
    missing_claim,  // exp (or a claim with the wrong JSON type)
  };
  Kind kind = Kind::malformed;
  std::string message;
};
const char* to_string(JwtError::Kind kind) noexcept;

// A parsed JWKS: immutable, shared by every verification until a rotation replaces it.
class KeySet {
 public:
  virtual ~KeySet() = default;
  virtual std::size_t size() const noexcept = 0;
  // kids of the usable keys, for logs.
  virtual std::vector<std::string> key_ids() const = 0;
};

// Parses a JWKS document ({"keys": [...]}). Keys of unsupported types or curves, `use` other
// than "sig", and private members are skipped with a note in `skipped` (for the log); a document
// that is not a JWKS, or whose every key is unusable, is an error. At most kMaxJwksKeys keys and
// kMaxJwksBytes of text.
mcp::Expected<std::shared_ptr<const KeySet>, std::string> parse_jwks(
    std::string_view json, std::vector<std::string>* skipped = nullptr);

// The parts of a token readable before any trust: enough to pick the source (by issuer) and
// the key (by kid). Nothing here is verified.
struct UnverifiedJwt {
  std::string algorithm;  // header "alg" as written
  std::optional<std::string> key_id;
  std::optional<std::string> issuer;  // payload "iss" when it is a string
  // Internal: the decoded parts, for verify_jwt.
  nlohmann::json header;
  nlohmann::json payload;
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
};
mcp::Expected<UnverifiedJwt, JwtError> parse_jwt(std::string_view token);

// What one configured source (config::JwtSourceConfig) accepts.
struct JwtRules {
  std::string issuer;
  std::vector<std::string> audiences;
  std::vector<JwtAlgorithm> algorithms;  // empty: every asymmetric algorithm
  std::string hs256_secret;              // used only when HS256 is in `algorithms`
  std::chrono::seconds leeway{60};
};

struct VerifiedJwt {
  nlohmann::json claims;  // the whole payload
  JwtAlgorithm algorithm = JwtAlgorithm::rs256;
  std::string key_id;
  std::int64_t expires_at = 0;  // exp, seconds since the epoch
};

// Checks algorithm, key, signature and claims, in that order. `keys` may be null (no JWKS,
// HS256 only). `now` is seconds since the epoch.
mcp::Expected<VerifiedJwt, JwtError> verify_jwt(const UnverifiedJwt& token, const KeySet* keys,
                                                const JwtRules& rules, std::int64_t now);

// base64url without padding (RFC 7515 section 2), from the protocol core; the tests build
// tokens with it too.
using mcp::base64url_decode;
using mcp::base64url_encode;

}  // namespace mcpgw::auth
