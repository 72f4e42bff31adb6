// JWT verification against keys generated here with OpenSSL: every algorithm valid and forged,
// alg none, algorithm confusion, key choice by kid and family, claims with leeway, malformed
// tokens, and JWKS parsing. Every refusal is checked by its kind, and no message may quote the
// token.
#include "gateway/auth/jwt.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/gateway/auth/jwt_test_support.hpp"

namespace mcpgw::auth {
namespace {

using test::keys;
using test::TestKey;
using Kind = JwtError::Kind;

constexpr std::int64_t kNow = 1'800'000'000;

JwtRules rules(std::vector<JwtAlgorithm> algorithms = {}) {
  JwtRules out;
  out.issuer = "https://idp.test";
  out.audiences = {"mcpgw", "other-api"};
  out.algorithms = std::move(algorithms);
  out.leeway = std::chrono::seconds(60);
  return out;
}

std::shared_ptr<const KeySet> key_set(const nlohmann::json& jwks) {
  std::vector<std::string> skipped;
  auto parsed = parse_jwks(jwks.dump(), &skipped);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error());
  EXPECT_TRUE(skipped.empty()) << (skipped.empty() ? "" : skipped.front());
  return parsed ? *parsed : nullptr;
}

// Every usable key of the suite, each with its own kid.
std::shared_ptr<const KeySet> all_keys() {
  static const auto set = key_set(test::jwks_of({
      test::public_jwk(keys().rsa, "rsa"),
      test::public_jwk(keys().p256, "p256"),
      test::public_jwk(keys().p384, "p384"),
      test::public_jwk(keys().ed25519, "ed"),
  }));
  return set;
}

// Parses and verifies; the error, or nullopt when the token is accepted.
std::optional<JwtError> refusal(const std::string& token, const KeySet* set,
                                const JwtRules& with = rules(), std::int64_t now = kNow) {
  auto parsed = parse_jwt(token);
  if (!parsed) {
    return parsed.error();
  }
  auto verified = verify_jwt(*parsed, set, with, now);
  if (!verified) {
    // Messages are for logs: never the token, nor any of its parts.
    const auto first = token.find('.');
    const auto last = token.rfind('.');
    EXPECT_EQ(verified.error().message.find(token.substr(0, first)), std::string::npos);
    EXPECT_EQ(verified.error().message.find(token.substr(first + 1, last - first - 1)),
              std::string::npos);
    if (last + 1 < token.size()) {
      EXPECT_EQ(verified.error().message.find(token.substr(last + 1)), std::string::npos);
    }
    return verified.error();
  }
  return std::nullopt;
}

std::optional<Kind> refusal_kind(const std::string& token, const KeySet* set = all_keys().get(),
                                 const JwtRules& with = rules(), std::int64_t now = kNow) {
  const auto error = refusal(token, set, with, now);
  return error ? std::optional<Kind>(error->kind) : std::nullopt;
}

// Flips one bit in the middle of the signature part's bytes.
std::string with_flipped_signature(const std::string& token) {
  const auto last = token.rfind('.');
  auto signature = base64url_decode(token.substr(last + 1)).value();
  signature[signature.size() / 2] = static_cast<char>(signature[signature.size() / 2] ^ 0x01);
  return token.substr(0, last + 1) + base64url_encode(signature);
}

// ---------------------------------------------------------------------------------------------

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    const auto encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    const auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 251));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodingIsStrict) {
  EXPECT_EQ(base64url_decode("-_8").value(), "\xfb\xff");
  EXPECT_FALSE(base64url_decode("+/8"));     // base64, not base64url
  EXPECT_FALSE(base64url_decode("YQ=="));    // padding
  EXPECT_FALSE(base64url_decode("YQ="));     // padding
  EXPECT_FALSE(base64url_decode("Y"));       // a length no encoding has
  EXPECT_FALSE(base64url_decode("YR"));      // unused bits set: not the canonical "YQ"
  EXPECT_FALSE(base64url_decode("Y Q"));     // whitespace
  EXPECT_FALSE(base64url_decode("YQ\n"));    // whitespace
  EXPECT_FALSE(base64url_decode("YQ\xc3"));  // non-ASCII
  EXPECT_EQ(base64url_decode("").value(), "");
  EXPECT_EQ(base64url_decode("YQ").value(), "a");
}

TEST(JwtAlgorithmNames, ExactlyTheTenSupportedNames) {
  for (const char* name :
       {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256"}) {
    const auto algorithm = parse_algorithm(name);
    ASSERT_TRUE(algorithm.has_value()) << name;
    EXPECT_STREQ(to_string(*algorithm), name);
  }
  for (const char* name : {"none", "None", "NONE", "", "rs256", "HS384", "HS512", "ES512",
                           "Ed25519", "RS256 ", "ES256K"}) {
    EXPECT_FALSE(parse_algorithm(name).has_value()) << name;
  }
  EXPECT_STREQ(to_string(Kind::bad_signature), "bad_signature");
  EXPECT_STREQ(to_string(Kind::not_yet_valid), "not_yet_valid");
}

// ---------------------------------------------------------------------------------------------

struct AlgorithmCase {
  const char* algorithm;
  const TestKey* key;
  const TestKey* other;  // same family, not in the key set
  const char* kid;
};

std::vector<AlgorithmCase> algorithm_cases() {
  const auto& k = keys();
  return {
      {"RS256", &k.rsa, &k.rsa_other, "rsa"},        {"RS384", &k.rsa, &k.rsa_other, "rsa"},
      {"RS512", &k.rsa, &k.rsa_other, "rsa"},        {"PS256", &k.rsa, &k.rsa_other, "rsa"},
      {"PS384", &k.rsa, &k.rsa_other, "rsa"},        {"PS512", &k.rsa, &k.rsa_other, "rsa"},
      {"ES256", &k.p256, &k.p256_other, "p256"},     {"ES384", &k.p384, &k.p384_other, "p384"},
      {"EdDSA", &k.ed25519, &k.ed25519_other, "ed"},
  };
}

TEST(JwtVerify, EveryAlgorithmVerifiesItsOwnSignature) {
  for (const auto& test_case : algorithm_cases()) {
    SCOPED_TRACE(test_case.algorithm);
    const auto token = test::signed_token(test_case.algorithm, *test_case.key, test_case.kid,
                                          test::claims_at(kNow));
    auto parsed = parse_jwt(token);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->algorithm, test_case.algorithm);
    EXPECT_EQ(parsed->key_id, test_case.kid);
    EXPECT_EQ(parsed->issuer, "https://idp.test");
    auto verified = verify_jwt(*parsed, all_keys().get(), rules(), kNow);
    ASSERT_TRUE(verified.has_value()) << verified.error().message;
    EXPECT_STREQ(to_string(verified->algorithm), test_case.algorithm);
    EXPECT_EQ(verified->key_id, test_case.kid);
    EXPECT_EQ(verified->expires_at, kNow + 600);
    EXPECT_EQ(verified->claims["sub"], "alice");
  }
}

TEST(JwtVerify, ForgedSignaturesOfEveryAlgorithmFail) {
  for (const auto& test_case : algorithm_cases()) {
    SCOPED_TRACE(test_case.algorithm);
    const auto claims = test::claims_at(kNow);
    const auto token =
        test::signed_token(test_case.algorithm, *test_case.key, test_case.kid, claims);
    // One bit of the signature changed.
    EXPECT_EQ(refusal_kind(with_flipped_signature(token)), Kind::bad_signature);
    // Signed by another key of the right family, claiming the trusted key's kid.
    EXPECT_EQ(refusal_kind(
                  test::signed_token(test_case.algorithm, *test_case.other, test_case.kid, claims)),
              Kind::bad_signature);
    // The payload changed after signing (the signature of the original kept).
    auto elevated = claims;
    elevated["sub"] = "admin";
    const auto forged_payload = token.substr(0, token.find('.') + 1) + test::encode_part(elevated) +
                                token.substr(token.rfind('.'));
    EXPECT_EQ(refusal_kind(forged_payload), Kind::bad_signature);
    // No signature at all, and a truncated one.
    EXPECT_EQ(refusal_kind(token.substr(0, token.rfind('.') + 1)), Kind::bad_signature);
    const auto signature = base64url_decode(token.substr(token.rfind('.') + 1)).value();
    EXPECT_EQ(refusal_kind(token.substr(0, token.rfind('.') + 1) +
                           base64url_encode(signature.substr(0, signature.size() - 1))),
              Kind::bad_signature);
  }
}

TEST(JwtVerify, PssAndPkcs1AreDifferentAlgorithms) {
  const auto claims = test::claims_at(kNow);
  // Signed with PKCS#1 v1.5 but labelled PS256.
  const auto pkcs1_as_pss = test::make_token(
      nlohmann::json{{"alg", "PS256"}, {"kid", "rsa"}}, claims, [](std::string_view input) {
        return test::signature("PS256", keys().rsa, input, /*pkcs1_for_pss=*/true);
      });
  EXPECT_EQ(refusal_kind(pkcs1_as_pss), Kind::bad_signature);
  // A PS256 signature labelled RS256.
  const auto pss_as_pkcs1 = test::make_token(
      nlohmann::json{{"alg", "RS256"}, {"kid", "rsa"}}, claims,
      [](std::string_view input) { return test::signature("PS256", keys().rsa, input); });
  EXPECT_EQ(refusal_kind(pss_as_pkcs1), Kind::bad_signature);
  // An RS384 signature labelled RS256: the hash is part of the algorithm.
  const auto other_hash = test::make_token(
      nlohmann::json{{"alg", "RS256"}, {"kid", "rsa"}}, claims,
      [](std::string_view input) { return test::signature("RS384", keys().rsa, input); });
  EXPECT_EQ(refusal_kind(other_hash), Kind::bad_signature);
}

TEST(JwtVerify, EcdsaSignaturesMustBeRawRAndS) {
  const auto claims = test::claims_at(kNow);
  // The DER form OpenSSL produces is not a JWS signature.
  const auto der = test::make_token(
      nlohmann::json{{"alg", "ES256"}, {"kid", "p256"}}, claims, [](std::string_view input) {
        EVP_MD_CTX* context = EVP_MD_CTX_new();
        std::size_t length = 0;
        const auto* data = reinterpret_cast<const unsigned char*>(input.data());
        EXPECT_EQ(EVP_DigestSignInit_ex(context, nullptr, "SHA256", nullptr, nullptr,
                                        keys().p256.key.get(), nullptr),
                  1);
        EXPECT_EQ(EVP_DigestSign(context, nullptr, &length, data, input.size()), 1);
        std::string out(length, '\0');
        EXPECT_EQ(EVP_DigestSign(context, reinterpret_cast<unsigned char*>(out.data()), &length,
                                 data, input.size()),
                  1);
        out.resize(length);
        EVP_MD_CTX_free(context);
        return out;
      });
  EXPECT_EQ(refusal_kind(der), Kind::bad_signature);
  // R and S of zero.
  const auto zeros = test::make_token(nlohmann::json{{"alg", "ES256"}, {"kid", "p256"}}, claims,
                                      [](std::string_view) { return std::string(64, '\0'); });
  EXPECT_EQ(refusal_kind(zeros), Kind::bad_signature);
  // An ES384-sized signature for ES256.
  const auto long_signature = test::make_token(
      nlohmann::json{{"alg", "ES256"}, {"kid", "p256"}}, claims, [](std::string_view input) {
        return test::signature("ES256", keys().p256, input) + std::string(32, 1);
      });
  EXPECT_EQ(refusal_kind(long_signature), Kind::bad_signature);
}

TEST(JwtVerify, Hs256OnlyWithTheConfiguredSecret) {
  const std::string secret = "0123456789abcdef0123456789abcdef-configured";
  auto with_secret = rules({JwtAlgorithm::hs256});
  with_secret.hs256_secret = secret;
  const auto token = test::hs256_token(secret, test::claims_at(kNow));
  EXPECT_EQ(refusal_kind(token, nullptr, with_secret), std::nullopt);
  EXPECT_EQ(refusal_kind(token, all_keys().get(), with_secret), std::nullopt);
  EXPECT_EQ(refusal_kind(with_flipped_signature(token), nullptr, with_secret), Kind::bad_signature);
  EXPECT_EQ(refusal_kind(
                test::hs256_token("another secret of sufficient length!!", test::claims_at(kNow)),
                nullptr, with_secret),
            Kind::bad_signature);
  // Not listed (the default list is every asymmetric algorithm), or listed without a secret.
  auto default_rules = rules();
  default_rules.hs256_secret = secret;
  EXPECT_EQ(refusal_kind(token, all_keys().get(), default_rules), Kind::algorithm);
  EXPECT_EQ(refusal_kind(token, all_keys().get(), rules({JwtAlgorithm::hs256})), Kind::algorithm);
  // With HS256 configured, RS256 tokens need RS256 listed too.
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "rsa", test::claims_at(kNow)),
                         all_keys().get(), with_secret),
            Kind::algorithm);
}

TEST(JwtVerify, AlgNoneIsRefused) {
  const auto claims = test::claims_at(kNow);
  for (const char* name : {"none", "None", "NONE", "nOnE"}) {
    const auto token = test::encode_part(nlohmann::json{{"alg", name}, {"typ", "JWT"}}) + "." +
                       test::encode_part(claims) + ".";
    const auto error = refusal(token, all_keys().get());
    ASSERT_TRUE(error.has_value()) << name;
    EXPECT_EQ(error->kind, Kind::algorithm) << name;
    // With a signature part too.
    EXPECT_EQ(refusal_kind(token + "c2ln"), Kind::algorithm) << name;
  }
  // Also when the source lists every algorithm it can.
  auto everything = rules({JwtAlgorithm::rs256, JwtAlgorithm::es256, JwtAlgorithm::eddsa});
  const auto none =
      test::encode_part(nlohmann::json{{"alg", "none"}}) + "." + test::encode_part(claims) + ".";
  EXPECT_EQ(refusal_kind(none, all_keys().get(), everything), Kind::algorithm);
  // Unsupported names are refused the same way.
  for (const char* name : {"HS384", "HS512", "ES512", "RSA-OAEP", ""}) {
    const auto token = test::make_token(nlohmann::json{{"alg", name}, {"kid", "rsa"}}, claims,
                                        [](std::string_view) { return std::string("sig"); });
    EXPECT_EQ(refusal_kind(token), Kind::algorithm) << name;
  }
}

TEST(JwtVerify, AlgorithmNotListedForTheSourceIsRefused) {
  const auto claims = test::claims_at(kNow);
  const auto only_es256 = rules({JwtAlgorithm::es256});
  EXPECT_EQ(refusal_kind(test::signed_token("ES256", keys().p256, "p256", claims), all_keys().get(),
                         only_es256),
            std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "rsa", claims), all_keys().get(),
                         only_es256),
            Kind::algorithm);
  EXPECT_EQ(refusal_kind(test::signed_token("EdDSA", keys().ed25519, "ed", claims),
                         all_keys().get(), only_es256),
            Kind::algorithm);
}

// The classic confusion attack: the verifier is told "HS256" and uses the RSA public key (which
// the attacker knows) as the HMAC secret. Here HS256 never takes a key from the key set.
TEST(JwtVerify, RsaPublicKeyAsHmacSecretNeverVerifies) {
  const auto claims = test::claims_at(kNow);
  const auto pem = test::public_key_pem(keys().rsa);
  const auto der = test::public_key_der(keys().rsa);
  ASSERT_NE(pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  const auto jwk_n = test::public_jwk(keys().rsa)["n"].get<std::string>();
  for (const auto& secret : {pem, der, jwk_n, test::public_jwk(keys().rsa).dump()}) {
    for (const bool with_kid : {false, true}) {
      auto header = nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}};
      if (with_kid) {
        header["kid"] = "rsa";
      }
      const auto token = test::make_token(header, claims, [&](std::string_view input) {
        return test::hs256_signature(secret, input);
      });
      // Default rules: HS256 is not even allowed.
      EXPECT_EQ(refusal_kind(token), Kind::algorithm);
      // A source that allows RS256 and HS256 uses its configured secret only.
      auto mixed = rules({JwtAlgorithm::rs256, JwtAlgorithm::hs256});
      mixed.hs256_secret = "the real configured secret, 32+ bytes long";
      EXPECT_EQ(refusal_kind(token, all_keys().get(), mixed), Kind::bad_signature);
    }
  }
}

TEST(JwtVerify, TheAlgorithmDecidesTheKeyFamily) {
  const auto claims = test::claims_at(kNow);
  // ES256 naming the RSA key's kid, RS256 naming the EC key's kid, ES384 naming a P-256 key.
  EXPECT_EQ(refusal_kind(test::signed_token("ES256", keys().p256, "rsa", claims)), Kind::algorithm);
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "p256", claims)), Kind::algorithm);
  EXPECT_EQ(refusal_kind(test::signed_token("ES384", keys().p384, "p256", claims)),
            Kind::algorithm);
  EXPECT_EQ(refusal_kind(test::signed_token("EdDSA", keys().ed25519, "rsa", claims)),
            Kind::algorithm);
  // A JWK's own alg binds it to that algorithm.
  auto bound = test::public_jwk(keys().rsa, "bound");
  bound["alg"] = "RS256";
  const auto set = key_set(test::jwks_of({bound}));
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "bound", claims), set.get()),
            std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("RS384", keys().rsa, "bound", claims), set.get()),
            Kind::algorithm);
  EXPECT_EQ(refusal_kind(test::signed_token("PS256", keys().rsa, "bound", claims), set.get()),
            Kind::algorithm);
}

TEST(JwtVerify, KeyChoiceByKid) {
  const auto claims = test::claims_at(kNow);
  // Missing kid: the one key of the family is used.
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "", claims)), std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("EdDSA", keys().ed25519, "", claims)), std::nullopt);
  // Missing kid with two keys of the family: ambiguous, even though one would verify.
  const auto two_rsa = key_set(
      test::jwks_of({test::public_jwk(keys().rsa, "a"), test::public_jwk(keys().rsa_other, "b"),
                     test::public_jwk(keys().p256, "c")}));
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "", claims), two_rsa.get()),
            Kind::ambiguous_key);
  EXPECT_EQ(refusal_kind(test::signed_token("ES256", keys().p256, "", claims), two_rsa.get()),
            std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa_other, "b", claims), two_rsa.get()),
            std::nullopt);
  // Two keys under one kid.
  const auto same_kid = key_set(test::jwks_of(
      {test::public_jwk(keys().rsa, "dup"), test::public_jwk(keys().rsa_other, "dup")}));
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "dup", claims), same_kid.get()),
            Kind::ambiguous_key);
  // Unknown kid, and no key of the family at all.
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "rotated", claims)),
            Kind::unknown_key);
  const auto only_ec = key_set(test::jwks_of({test::public_jwk(keys().p256, "c")}));
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "", claims), only_ec.get()),
            Kind::unknown_key);
  // No key set loaded yet.
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "rsa", claims), nullptr),
            Kind::unknown_key);
  // Keys without a kid are not found by a token's kid.
  const auto no_kids = key_set(test::jwks_of({test::public_jwk(keys().rsa)}));
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "rsa", claims), no_kids.get()),
            Kind::unknown_key);
  EXPECT_EQ(refusal_kind(test::signed_token("RS256", keys().rsa, "", claims), no_kids.get()),
            std::nullopt);
}

TEST(JwtVerify, CritHeaderIsRefused) {
  const auto claims = test::claims_at(kNow);
  for (const auto& crit :
       {nlohmann::json::array({"exp"}), nlohmann::json::array(), nlohmann::json::array({"b64"})}) {
    const auto token = test::make_token(
        nlohmann::json{{"alg", "ES256"}, {"kid", "p256"}, {"crit", crit}, {"b64", true}}, claims,
        [](std::string_view input) { return test::signature("ES256", keys().p256, input); });
    EXPECT_EQ(refusal_kind(token), Kind::algorithm);
  }
  // Header members we never follow are ignored, not trusted: an embedded key does not help.
  const auto embedded = test::make_token(
      nlohmann::json{{"alg", "ES256"},
                     {"kid", "p256"},
                     {"jwk", test::public_jwk(keys().p256_other)},
                     {"jku", "https://attacker.test/jwks"}},
      claims,
      [](std::string_view input) { return test::signature("ES256", keys().p256_other, input); });
  EXPECT_EQ(refusal_kind(embedded), Kind::bad_signature);
}

TEST(JwtVerify, ExpiryNotBeforeAndIssuedAtWithLeeway) {
  const auto token = [](nlohmann::json claims) {
    return test::signed_token("ES256", keys().p256, "p256", claims);
  };
  auto claims = test::claims_at(kNow);
  // exp: accepted until exp + leeway.
  claims["exp"] = kNow - 59;
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  claims["exp"] = kNow - 60;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::expired);
  claims["exp"] = kNow - 86400;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::expired);
  claims["exp"] = static_cast<double>(kNow) + 10.5;
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  // exp is required and must be a number.
  claims.erase("exp");
  EXPECT_EQ(refusal_kind(token(claims)), Kind::missing_claim);
  for (const auto& bad : {nlohmann::json("1900000000"), nlohmann::json(true),
                          nlohmann::json(nullptr), nlohmann::json::array({kNow + 60})}) {
    claims["exp"] = bad;
    EXPECT_EQ(refusal_kind(token(claims)), Kind::missing_claim) << bad.dump();
  }
  claims["exp"] = kNow + 600;
  // nbf: accepted from nbf - leeway.
  claims["nbf"] = kNow + 60;
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  claims["nbf"] = kNow + 61;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::not_yet_valid);
  claims["nbf"] = "soon";
  EXPECT_EQ(refusal_kind(token(claims)), Kind::missing_claim);
  claims["nbf"] = kNow - 10;
  // iat may not lie in the future beyond the leeway.
  claims["iat"] = kNow + 60;
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  claims["iat"] = kNow + 3600;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::not_yet_valid);
  claims["iat"] = "yesterday";
  EXPECT_EQ(refusal_kind(token(claims)), Kind::missing_claim);
  // The leeway is the source's.
  claims["iat"] = kNow;
  claims["exp"] = kNow - 5;
  auto strict = rules();
  strict.leeway = std::chrono::seconds(0);
  EXPECT_EQ(refusal_kind(token(claims), all_keys().get(), strict), Kind::expired);
  strict.leeway = std::chrono::seconds(10);
  EXPECT_EQ(refusal_kind(token(claims), all_keys().get(), strict), std::nullopt);
  // Absurd dates neither overflow nor pass.
  claims["exp"] = 1e300;
  claims["nbf"] = -1e300;
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  claims["nbf"] = 1e300;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::not_yet_valid);
  claims["nbf"] = kNow;
  claims["exp"] = -9223372036854775807LL;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::expired);
  claims["exp"] = 18446744073709551615ULL;
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
}

TEST(JwtVerify, IssuerAndAudience) {
  const auto token = [](nlohmann::json claims) {
    return test::signed_token("EdDSA", keys().ed25519, "ed", claims);
  };
  auto claims = test::claims_at(kNow);
  claims["iss"] = "https://evil.test";
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_issuer);
  claims["iss"] = "https://idp.test/";  // exact match only
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_issuer);
  claims.erase("iss");
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_issuer);
  claims["iss"] = nlohmann::json::array({"https://idp.test"});
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_issuer);
  claims["iss"] = "https://idp.test";

  claims["aud"] = "someone-else";
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_audience);
  claims["aud"] = "other-api";  // the second accepted audience
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  claims["aud"] = nlohmann::json::array({"x", "mcpgw"});
  EXPECT_EQ(refusal_kind(token(claims)), std::nullopt);
  claims["aud"] = nlohmann::json::array({"x", "y"});
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_audience);
  claims["aud"] = nlohmann::json::array();
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_audience);
  claims.erase("aud");
  EXPECT_EQ(refusal_kind(token(claims)), Kind::wrong_audience);
  claims["aud"] = 42;
  EXPECT_EQ(refusal_kind(token(claims)), Kind::missing_claim);
  claims["aud"] = nlohmann::json::array({"mcpgw", 42});
  EXPECT_EQ(refusal_kind(token(claims)), Kind::missing_claim);
}

TEST(JwtVerify, SignatureIsCheckedBeforeClaims) {
  auto claims = test::claims_at(kNow);
  claims["exp"] = kNow - 3600;
  claims["iss"] = "https://evil.test";
  const auto token = test::signed_token("ES256", keys().p256_other, "p256", claims);
  EXPECT_EQ(refusal_kind(token), Kind::bad_signature);
}

TEST(JwtParse, MalformedTokens) {
  const auto claims = test::claims_at(kNow);
  const auto good = test::signed_token("ES256", keys().p256, "p256", claims);
  const auto header = good.substr(0, good.find('.'));
  const auto payload_and_signature = good.substr(good.find('.') + 1);
  const auto part = [](const std::string& json) { return base64url_encode(json); };
  const std::vector<std::string> malformed = {
      "",
      "abc",
      "a.b",
      good + ".more",
      good + ".",
      "." + payload_and_signature,
      header + "..sig",
      header + "=." + payload_and_signature,
      header + "." + payload_and_signature + "=",
      "eyJ+" + good,
      " " + good,
      good + " ",
      part("not json") + "." + payload_and_signature,
      part("[1,2]") + "." + payload_and_signature,
      part(R"({"alg":"ES256","alg":"none"})") + "." + payload_and_signature,
      part(R"({"kid":"p256"})") + "." + payload_and_signature,
      part(R"({"alg":256})") + "." + payload_and_signature,
      part(R"({"alg":"ES256","kid":7})") + "." + payload_and_signature,
      header + "." + part("\"a string\"") + ".c2ln",
      header + "." + part(R"({"sub":"a","sub":"b"})") + ".c2ln",
      header + "." + part(std::string(100, '[') + std::string(100, ']')) + ".c2ln",
      header + "." + part(R"({"exp":1)") + ".c2ln",
      std::string(kMaxTokenBytes + 1, 'a'),
      header + "." + std::string(kMaxTokenBytes, 'a') + ".c2ln",
  };
  for (const auto& token : malformed) {
    const auto parsed = parse_jwt(token);
    ASSERT_FALSE(parsed.has_value()) << token.substr(0, 80);
    EXPECT_EQ(parsed.error().kind, Kind::malformed) << token.substr(0, 80);
    if (token.size() > 8) {
      EXPECT_EQ(parsed.error().message.find(token), std::string::npos);
    }
    EXPECT_LT(parsed.error().message.size(), 200u);
  }
  // The same token with an iss that is not a string parses, without an issuer.
  auto odd = claims;
  odd["iss"] = 5;
  const auto parsed = parse_jwt(test::signed_token("ES256", keys().p256, "p256", odd));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->issuer.has_value());
}

TEST(JwtParse, AttackerStringsInMessagesAreSanitised) {
  const auto claims = test::claims_at(kNow);
  const std::string kid = "evil\r\nX-Injected: 1\x1b[31m" + std::string(500, 'k');
  const auto error =
      refusal(test::signed_token("RS256", keys().rsa, kid, claims), all_keys().get());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, Kind::unknown_key);
  EXPECT_EQ(error->message.find('\n'), std::string::npos);
  EXPECT_EQ(error->message.find('\x1b'), std::string::npos);
  EXPECT_LT(error->message.size(), 120u);
}

// ---------------------------------------------------------------------------------------------

TEST(Jwks, ParsesRsaEcAndOkpKeys) {
  std::vector<std::string> skipped;
  auto rsa = test::public_jwk(keys().rsa, "r");
  rsa["use"] = "sig";
  rsa["alg"] = "PS384";
  rsa["key_ops"] = nlohmann::json::array({"verify"});
  rsa["x5c"] = nlohmann::json::array({"ignored"});
  const auto document = test::jwks_of({rsa, test::public_jwk(keys().p256, "e256"),
                                       test::public_jwk(keys().p384, "e384"),
                                       test::public_jwk(keys().ed25519, "ed")});
  auto set = parse_jwks(document.dump(), &skipped);
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ((*set)->size(), 4u);
  EXPECT_EQ((*set)->key_ids(), (std::vector<std::string>{"r", "e256", "e384", "ed"}));
  // Each key verifies its algorithm.
  const auto claims = test::claims_at(kNow);
  EXPECT_EQ(refusal_kind(test::signed_token("PS384", keys().rsa, "r", claims), set->get()),
            std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("ES256", keys().p256, "e256", claims), set->get()),
            std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("ES384", keys().p384, "e384", claims), set->get()),
            std::nullopt);
  EXPECT_EQ(refusal_kind(test::signed_token("EdDSA", keys().ed25519, "ed", claims), set->get()),
            std::nullopt);
}

TEST(Jwks, UnsupportedAndUnusableKeysAreSkippedWithANote) {
  const auto good = test::public_jwk(keys().p256, "good");
  std::vector<nlohmann::json> unusable;
  unusable.push_back({{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}});
  auto p521 = good;
  p521["crv"] = "P-521";
  unusable.push_back(p521);
  unusable.push_back(
      {{"kty", "OKP"}, {"crv", "X25519"}, {"x", test::public_jwk(keys().ed25519)["x"]}});
  unusable.push_back({{"kty", "OKP"}, {"crv", "Ed448"}, {"x", "AAAA"}});
  unusable.push_back(test::public_jwk(test::generate_key(test::KeyKind::rsa, 1024), "small"));
  auto encryption = test::public_jwk(keys().rsa, "enc");
  encryption["use"] = "enc";
  unusable.push_back(encryption);
  auto no_verify = test::public_jwk(keys().rsa, "ops");
  no_verify["key_ops"] = nlohmann::json::array({"encrypt"});
  unusable.push_back(no_verify);
  auto private_member = test::public_jwk(keys().rsa, "private");
  private_member["d"] = "AQAB";
  unusable.push_back(private_member);
  auto wrong_alg = test::public_jwk(keys().rsa, "wrong-alg");
  wrong_alg["alg"] = "ES256";
  unusable.push_back(wrong_alg);
  auto hmac_alg = test::public_jwk(keys().rsa, "hmac-alg");
  hmac_alg["alg"] = "HS256";
  unusable.push_back(hmac_alg);
  auto bad_base64 = test::public_jwk(keys().rsa, "b64");
  bad_base64["n"] = "not+base64url/";
  unusable.push_back(bad_base64);
  auto off_curve = test::public_jwk(keys().p256, "off-curve");
  auto y = base64url_decode(off_curve["y"].get<std::string>()).value();
  y[31] = static_cast<char>(y[31] ^ 0x01);
  off_curve["y"] = base64url_encode(y);
  unusable.push_back(off_curve);
  auto short_x = good;
  short_x["x"] = "AAAA";
  unusable.push_back(short_x);
  unusable.push_back({{"kid", "no-kty"}});
  unusable.push_back({{"kty", 7}});
  unusable.push_back({{"kty", "RSA"}, {"kid", 7}, {"n", "AQAB"}, {"e", "AQAB"}});
  unusable.push_back("a string");
  unusable.push_back({{"kty", "RSA"}, {"kid", "no-n"}, {"e", "AQAB"}});

  nlohmann::json document = test::jwks_of({good});
  for (const auto& key : unusable) {
    document["keys"].push_back(key);
  }
  std::vector<std::string> skipped;
  auto set = parse_jwks(document.dump(), &skipped);
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ((*set)->size(), 1u);
  EXPECT_EQ((*set)->key_ids(), std::vector<std::string>{"good"});
  ASSERT_EQ(skipped.size(), unusable.size());
  EXPECT_NE(skipped[0].find("\"hmac\""), std::string::npos);
  EXPECT_NE(skipped[0].find("oct"), std::string::npos);
  for (const auto& note : skipped) {
    EXPECT_EQ(note.find("c2VjcmV0"), std::string::npos) << note;  // never the key material
  }
  // The same document without a place for notes.
  EXPECT_TRUE(parse_jwks(document.dump()).has_value());
}

TEST(Jwks, GarbageDocumentsAreErrors) {
  const std::vector<std::string> garbage = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"keys": {}})",
      R"({"keys": []})",
      R"({"keys": [{"kty":"oct","k":"AAAA"}]})",
      R"({"keys": [], "keys": []})",
      R"({"keys": [1, 2, 3]})",
      std::string(100, '[') + std::string(100, ']'),
      R"({"keys": [)" + test::public_jwk(keys().p256, "a").dump() + "]",
  };
  for (const auto& document : garbage) {
    EXPECT_FALSE(parse_jwks(document).has_value()) << document.substr(0, 60);
  }
  // Too large, and too many keys.
  std::string large = test::jwks_of({test::public_jwk(keys().p256, "a")}).dump();
  large.insert(1, std::string(kMaxJwksBytes, ' '));
  const auto oversize = parse_jwks(large);
  ASSERT_FALSE(oversize.has_value());
  EXPECT_NE(oversize.error().find("bytes"), std::string::npos);
  nlohmann::json many = test::jwks_of({});
  for (std::size_t index = 0; index <= kMaxJwksKeys; ++index) {
    many["keys"].push_back(test::public_jwk(keys().ed25519, "k" + std::to_string(index)));
  }
  const auto too_many = parse_jwks(many.dump());
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().find("keys"), std::string::npos);
  many["keys"].erase(many["keys"].begin());
  EXPECT_TRUE(parse_jwks(many.dump()).has_value());
}

}  // namespace
}  // namespace mcpgw::auth
