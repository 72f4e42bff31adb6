// Principals from verified claims, and the key that ties sessions and rate-limit buckets to a
// caller.
#include <gtest/gtest.h>

#include "gateway/auth/authenticator.hpp"

namespace mcpgw::auth {
namespace {

using Scopes = std::vector<std::string>;

TEST(PrincipalFromClaims, SubjectClaimsAndSpaceSeparatedScope) {
  const nlohmann::json claims = {{"iss", "https://idp.test"},
                                 {"sub", "alice"},
                                 {"scope", " mcp:read  mcp:call repo:* "},
                                 {"groups", {"devs", "ops"}}};
  const auto principal = principal_from_claims(claims);
  EXPECT_TRUE(principal.authenticated);
  EXPECT_EQ(principal.subject, "alice");
  EXPECT_EQ(principal.claims, claims);
  EXPECT_EQ(principal.scopes, (Scopes{"mcp:read", "mcp:call", "repo:*"}));
  EXPECT_TRUE(principal.api_key.empty());
  EXPECT_TRUE(principal.cert_subject.empty());
}

TEST(PrincipalFromClaims, ScpAsArrayOrString) {
  EXPECT_EQ(principal_from_claims({{"scp", {"a", "b", 3, "", "c"}}}).scopes,
            (Scopes{"a", "b", "c"}));
  EXPECT_EQ(principal_from_claims({{"scp", "x y"}}).scopes, (Scopes{"x", "y"}));
  // "scope" wins when both are present; other types give no scopes.
  EXPECT_EQ(principal_from_claims({{"scope", "s"}, {"scp", {"t"}}}).scopes, Scopes{"s"});
  EXPECT_TRUE(principal_from_claims({{"scope", 5}}).scopes.empty());
  EXPECT_TRUE(principal_from_claims({{"scp", {{"nested", true}}}}).scopes.empty());
  EXPECT_TRUE(principal_from_claims({{"scope", ""}}).scopes.empty());
}

TEST(PrincipalFromClaims, MissingOrOddSubject) {
  EXPECT_EQ(principal_from_claims({{"iss", "i"}}).subject, "");
  EXPECT_EQ(principal_from_claims({{"sub", 42}}).subject, "");
  EXPECT_TRUE(principal_from_claims(nlohmann::json::array()).claims.is_object());
}

TEST(PrincipalKey, OneKeyPerKindOfCaller) {
  policy::Principal jwt = principal_from_claims({{"iss", "https://idp.test"}, {"sub", "alice"}});
  EXPECT_EQ(principal_key(jwt), "jwt:https://idp.test alice");
  jwt.cert_subject = "CN=alice";  // the token identifies the caller
  EXPECT_EQ(principal_key(jwt), "jwt:https://idp.test alice");

  policy::Principal key;
  key.authenticated = true;
  key.api_key = "ci";
  EXPECT_EQ(principal_key(key), "key:ci");
  key.cert_subject = "CN=runner";
  EXPECT_EQ(principal_key(key), "key:ci");

  policy::Principal cert;
  cert.authenticated = true;
  cert.cert_subject = "CN=client,O=Example";
  EXPECT_EQ(principal_key(cert), "cert:CN=client,O=Example");

  EXPECT_EQ(principal_key(policy::Principal{}), "anonymous");
  policy::Principal unauthenticated;
  unauthenticated.subject = "mallory";
  unauthenticated.api_key = "ci";
  EXPECT_EQ(principal_key(unauthenticated), "anonymous");
}

TEST(PrincipalKey, SameCallerSameKeyDifferentCallersDifferentKeys) {
  const auto first = principal_from_claims({{"iss", "i"}, {"sub", "alice"}, {"scope", "a"}});
  const auto refreshed = principal_from_claims({{"iss", "i"}, {"sub", "alice"}, {"scope", "a b"}});
  EXPECT_EQ(principal_key(first), principal_key(refreshed));
  EXPECT_NE(principal_key(first),
            principal_key(principal_from_claims({{"iss", "i"}, {"sub", "bob"}})));
  EXPECT_NE(principal_key(first),
            principal_key(principal_from_claims({{"iss", "j"}, {"sub", "alice"}})));
  // A space in the issuer cannot make two callers collide.
  EXPECT_NE(principal_key(principal_from_claims({{"iss", "a b"}, {"sub", "c"}})),
            principal_key(principal_from_claims({{"iss", "a"}, {"sub", "b c"}})));
  // A token subject never collides with an API key or certificate name.
  policy::Principal key;
  key.authenticated = true;
  key.api_key = "alice";
  EXPECT_NE(principal_key(key), principal_key(principal_from_claims({{"sub", "alice"}})));
}

}  // namespace
}  // namespace mcpgw::auth
