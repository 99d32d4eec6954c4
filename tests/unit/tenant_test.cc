// Tenants (core/tenants/): names, scoped meeting IDs, the directory a request is resolved
// against, a tenant's settings applied to its calls, the JSON form and the operator's use cases.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/tenants/tenant.h"
#include "core/tenants/tenant_admin.h"
#include "core/tenants/tenant_directory.h"
#include "core/tenants/tenant_json.h"
#include "core/tenants/tenant_limits.h"
#include "core/tenants/tenant_scope.h"
#include "db/memory_store.h"
#include "tests/unit/tenant_quota_contract.h"
#include "tests/unit/tenant_store_contract.h"

namespace sb {
namespace {

Tenant tenant(const std::string& name, std::vector<std::string> hosts = {}) {
  Tenant t;
  t.name = name;
  t.secrets = {name + "-secret-0001"};
  t.hosts = std::move(hosts);
  return t;
}

TEST(TenantNameTest, OnlyDnsLabelsAreNames) {
  const std::string longest(63, 'a');
  for (const std::string& good :
       {std::string("a"), std::string("acme"), std::string("uni-42"), std::string("0x"), longest}) {
    EXPECT_TRUE(validTenantName(good).ok()) << good;
  }
  for (const std::string& bad : {std::string(), std::string(64, 'a'), std::string("Acme"),
                                 std::string("a.b"), std::string("a/b"), std::string("-a"),
                                 std::string("a-"), std::string("a~b"), std::string("a b")}) {
    auto s = validTenantName(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(TenantNameTest, ATenantNeedsLongDistinctSecretsAndRealHostNames) {
  EXPECT_TRUE(validTenant(tenant("acme", {"bbb.acme.example"})).ok());
  Tenant t = tenant("acme");
  t.secrets.clear();
  EXPECT_FALSE(validTenant(t).ok());
  t.secrets = {"short"};
  EXPECT_FALSE(validTenant(t).ok());
  t.secrets = {"same-secret-123", "same-secret-123"};
  EXPECT_FALSE(validTenant(t).ok());
  for (const char* host : {"bbb.acme.example:443", "BBB.acme", "", "a..b", "a/b"}) {
    Tenant h = tenant("acme", {host});
    EXPECT_FALSE(validTenant(h).ok()) << host;
  }
  t = tenant("acme");
  t.limits.maxMeetings = -1;
  EXPECT_FALSE(validTenant(t).ok());
}

TEST(ScopedMeetingIdTest, TwoTenantsSameIdAreTwoMeetingsAndEachGetsItsOwnBack) {
  EXPECT_EQ(scopedMeetingId("", "room-1"), "room-1");
  const std::string a = scopedMeetingId("acme", "room-1"), b = scopedMeetingId("beta", "room-1");
  EXPECT_NE(a, b);
  EXPECT_EQ(unscopedMeetingId("acme", a), "room-1");
  EXPECT_EQ(unscopedMeetingId("acme", b), std::nullopt);
  EXPECT_EQ(unscopedMeetingId("acm", a), std::nullopt);  // a prefix of a name is not the name
  EXPECT_EQ(unscopedMeetingId("", a), a);
  EXPECT_EQ(tenantOfMeetingId(a), "acme");
  EXPECT_EQ(tenantOfMeetingId("room~1"), "room");
  EXPECT_EQ(tenantOfMeetingId("Room~1"), "");
  EXPECT_EQ(tenantOfMeetingId("plain"), "");
  // A tenant's own "~" stays in its part: the first "~" ends the tenant.
  EXPECT_EQ(unscopedMeetingId("acme", scopedMeetingId("acme", "beta~x")), "beta~x");
  EXPECT_EQ(maxMeetingIdLength("acme"), 251u);
}

TEST(TenantDirectoryTest, FindsByBaseDomainLabelOwnHostOrNameAndNeverADisabledOne) {
  MemoryTenantStore store;
  ASSERT_TRUE(store.addTenant(tenant("acme", {"bbb.acme-university.edu"})).ok());
  Tenant off = tenant("off");
  off.enabled = false;
  ASSERT_TRUE(store.addTenant(off).ok());
  TenantDirectory dir(store, "lb.example.org", {});
  EXPECT_EQ(dir.byName("acme"), nullptr);  // nothing until refreshed
  ASSERT_TRUE(dir.refresh().ok());
  EXPECT_EQ(dir.size(), 2u);
  for (const char* host :
       {"acme.lb.example.org", "ACME.lb.example.org:8443", "acme.lb.example.org.",
        "bbb.acme-university.edu", "BBB.Acme-University.edu:443"}) {
    auto e = dir.byHost(host);
    ASSERT_NE(e, nullptr) << host;
    EXPECT_EQ(e->tenant.name, "acme");
  }
  for (const char* host : {"lb.example.org", "x.acme.lb.example.org", "acme.lb.example.org.evil",
                           "acmelb.example.org", "off.lb.example.org", "", "[::1]:80"}) {
    EXPECT_EQ(dir.byHost(host), nullptr) << host;
  }
  EXPECT_NE(dir.byName("acme"), nullptr);
  EXPECT_EQ(dir.byName("off"), nullptr);
  EXPECT_EQ(dir.byName("nobody"), nullptr);
  // The verifier is the tenant's: its secret signs, another tenant's does not.
  auto acme = dir.byName("acme");
  const std::string q = "meetingID=m";
  EXPECT_TRUE(acme->verifier.verify(
      "join", q, computeChecksum(ChecksumAlgorithm::kSha256, "join", q, "acme-secret-0001")));
  EXPECT_FALSE(acme->verifier.verify(
      "join", q, computeChecksum(ChecksumAlgorithm::kSha256, "join", q, "off-secret-0001")));
  // A removed tenant is gone at the next refresh.
  ASSERT_TRUE(*store.removeTenant("acme"));
  ASSERT_TRUE(dir.refresh().ok());
  EXPECT_EQ(dir.byHost("acme.lb.example.org"), nullptr);
}

ApiRequest call(const std::string& name, const std::string& query) {
  ApiRequest r;
  r.call = name;
  r.params = *QueryString::parse(query);
  return r;
}

TEST(TenantScopeTest, ACreateIsScopedTaggedAndLayeredWithTheTenantsSettings) {
  Tenant t = tenant("acme");
  t.defaultCreateParams.append("record", "true");
  t.defaultCreateParams.append("welcome", "hi");
  t.overrideCreateParams.append("maxParticipants", "50");
  t.serverTags = {"gold"};
  ApiRequest r =
      call("create", "meetingID=room-1&welcome=mine&maxParticipants=500&meta_tenant-id=beta");
  ASSERT_TRUE(scopeToTenant(r, t).ok());
  EXPECT_EQ(r.context.tenant, "acme");
  EXPECT_EQ(r.params.get("meetingID"), "acme~room-1");
  EXPECT_EQ(r.params.get("record"), "true");
  EXPECT_EQ(r.params.get("welcome"), "mine");
  EXPECT_EQ(r.params.get("maxParticipants"), "50");
  EXPECT_EQ(r.params.get("meta_tenant-id"), "acme");
  EXPECT_EQ(r.params.get("meta_tenant-name"), "acme");
  EXPECT_EQ(r.params.get("meta_server-tag"), "gold");
}

TEST(TenantScopeTest, APinnedTenantStaysOnItsOwnTagsWhateverTheFrontendAsks) {
  Tenant t = tenant("acme");
  t.serverTags = {"gold", "silver"};
  t.tagFallback = false;
  for (auto [asked, placed] : {std::pair{"", "gold!"}, std::pair{"other", "gold!"},
                               std::pair{"silver", "silver!"}, std::pair{"silver!", "silver!"}}) {
    ApiRequest r = call("create", std::string("meetingID=m&meta_server-tag=") + asked);
    ASSERT_TRUE(scopeToTenant(r, t).ok());
    EXPECT_EQ(r.params.get("meta_server-tag"), placed) << asked;
  }
  t.tagFallback = true;
  ApiRequest r = call("create", "meetingID=m&meta_server-tag=other");
  ASSERT_TRUE(scopeToTenant(r, t).ok());
  EXPECT_EQ(r.params.get("meta_server-tag"), "other");
}

TEST(TenantScopeTest, AJoinGetsJoinSettingsAndAnIdTooLongForBbbIsRefused) {
  Tenant t = tenant("acme");
  t.defaultJoinParams.append("role", "viewer");
  t.overrideJoinParams.append("guest", "false");
  ApiRequest j = call("join", "meetingID=m&fullName=A&guest=true");
  ASSERT_TRUE(scopeToTenant(j, t).ok());
  EXPECT_EQ(j.params.get("meetingID"), "acme~m");
  EXPECT_EQ(j.params.get("role"), "viewer");
  EXPECT_EQ(j.params.get("guest"), "false");
  EXPECT_FALSE(j.params.has("meta_tenant-id"));
  ApiRequest fits = call("end", "meetingID=" + std::string(251, 'x'));
  EXPECT_TRUE(scopeToTenant(fits, t).ok());
  ApiRequest tooLong = call("end", "meetingID=" + std::string(252, 'x'));
  auto s = scopeToTenant(tooLong, t);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kValidationError);
}

TEST(TenantScopeTest, AnswersGiveBackTheFrontendsIdsAndListingsOnlyItsOwnMeetings) {
  EXPECT_EQ(unscopeAnswer("acme",
                          "<response><meetingID>acme~room</meetingID><x>acme~room</x>"
                          "<meetingID>beta~room</meetingID></response>"),
            "<response><meetingID>room</meetingID><x>acme~room</x>"
            "<meetingID>beta~room</meetingID></response>");
  EXPECT_EQ(unscopeAnswer("", "<meetingID>acme~room</meetingID>"),
            "<meetingID>acme~room</meetingID>");
  const std::string listing =
      "<meeting><meetingName>A</meetingName><meetingID>acme~room</meetingID></meeting>"
      "<meeting><meetingID>beta~room</meetingID></meeting>"
      "<meeting><meetingID>acme~b</meetingID><metadata><meeting>x</meeting></metadata></meeting>"
      "<meeting><meetingID>plain</meetingID></meeting>";
  EXPECT_EQ(tenantMeetings("acme", listing),
            "<meeting><meetingName>A</meetingName><meetingID>room</meetingID></meeting>"
            "<meeting><meetingID>b</meetingID><metadata><meeting>x</meeting></metadata>"
            "</meeting>");
  EXPECT_EQ(tenantMeetings("beta", listing), "<meeting><meetingID>room</meetingID></meeting>");
  EXPECT_EQ(tenantMeetings("gamma", listing), "");
}

TEST(TenantJsonTest, RoundTripsEveryFieldAndNamesAWrongOne) {
  const Tenant t = fullTenant("acme");
  auto back = tenantFromJson(tenantToJson(t));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, t);
  nlohmann::json hidden = tenantToJson(t, false);
  EXPECT_FALSE(hidden.contains("secrets"));
  EXPECT_EQ(hidden["secrets_count"], 2);
  EXPECT_EQ(hidden.dump().find("secret-one"), std::string::npos);
  for (const char* bad : {R"({"hosts": "one"})", R"({"limits": {"max_meetings": -1}})",
                          R"({"limits": {"max_meetings": 4294967297}})", R"({"enabled": "yes"})",
                          R"({"default_create_params": {"a": [1]}})", R"([1])"}) {
    auto r = tenantFromJson(nlohmann::json::parse(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  auto scalelite =
      tenantFromJson(nlohmann::json::parse(R"({"secrets": "first-secret-1:second-2"})"));
  ASSERT_TRUE(scalelite.ok());  // Scalelite's ':'-separated secrets
  EXPECT_EQ(scalelite->secrets, (std::vector<std::string>{"first-secret-1", "second-2"}));
  auto numbers = tenantFromJson(nlohmann::json::parse(R"({"default_create_params": {"d": 30}})"));
  ASSERT_TRUE(numbers.ok());
  EXPECT_EQ(numbers->defaultCreateParams.get("d"), "30");
}

class TenantAdminTest : public ::testing::Test {
 protected:
  MemoryTenantStore store_;
  MemoryMeetingStore meetings_;
  TenantDirectory directory_{store_, "lb.example.org", {}};
  TenantAdmin admin_{store_, meetings_, &directory_};
};

TEST_F(TenantAdminTest, AddsValidTenantsOnlyAndKeepsEachHostToOneTenant) {
  ASSERT_TRUE(admin_.add(tenant("acme", {"bbb.acme.edu"})).ok());
  EXPECT_NE(directory_.byHost("bbb.acme.edu"), nullptr);  // seen at once by this router
  auto clash = admin_.add(tenant("beta", {"bbb.acme.edu"}));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, ErrorCode::kInvalidArgument);
  auto bad = admin_.add(tenant("Beta"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto twice = admin_.add(tenant("acme"));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kAlreadyExists);
  auto rename = admin_.update("acme", nlohmann::json{{"name", "other"}});
  EXPECT_FALSE(rename.ok());
  auto updated = admin_.update("acme", nlohmann::json{{"limits", {{"max_meetings", 5}}}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->limits.maxMeetings, 5);
  EXPECT_EQ(updated->hosts, std::vector<std::string>{"bbb.acme.edu"});
}

TEST_F(TenantAdminTest, RotationPutsTheNewSecretFirstAndCanDropTheOld) {
  ASSERT_TRUE(admin_.add(tenant("acme")).ok());
  auto r = admin_.rotateSecret("acme", "", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret.size(), 48u);
  EXPECT_EQ(r->tenant.secrets, (std::vector<std::string>{r->secret, "acme-secret-0001"}));
  auto dropped = admin_.rotateSecret("acme", "the-next-secret-1", true);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->tenant.secrets, std::vector<std::string>{"the-next-secret-1"});
  EXPECT_FALSE(admin_.rotateSecret("acme", "short", true).ok());
  EXPECT_EQ(admin_.rotateSecret("nobody", "", false).error().code, ErrorCode::kNotFound);
}

TEST_F(TenantAdminTest, ATenantWithMeetingsIsRemovedOnlyWhenForced) {
  ASSERT_TRUE(admin_.add(tenant("acme")).ok());
  ASSERT_TRUE(admin_.add(tenant("beta")).ok());
  for (const char* id : {"acme~a", "acme~b", "beta~a", "acmeish"}) {
    Meeting m;
    m.id = id;
    m.serverId = "s1";
    ASSERT_TRUE(meetings_.claimMeeting(m).ok());
  }
  EXPECT_EQ(admin_.usage("acme")->meetings, 2);
  auto refused = admin_.remove("acme", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_NE(directory_.byName("acme"), nullptr);
  auto forced = admin_.remove("acme", true);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(*forced, 2);
  EXPECT_EQ(directory_.byName("acme"), nullptr);
  EXPECT_EQ(admin_.remove("acme", true).error().code, ErrorCode::kNotFound);
}

// The contract on process memory: every store made is a view of one MemoryTenantStore (as the
// threads of one process share it).
class MemoryTenantStorage {
 public:
  struct View final : TenantStore {
    explicit View(MemoryTenantStore& s) : shared(s) {}
    Result<std::vector<Tenant>> listTenants() override { return shared.listTenants(); }
    Result<std::optional<Tenant>> findTenant(std::string_view name) override {
      return shared.findTenant(name);
    }
    Status addTenant(const Tenant& t) override { return shared.addTenant(t); }
    Status updateTenant(const Tenant& t) override { return shared.updateTenant(t); }
    Result<bool> removeTenant(std::string_view name) override { return shared.removeTenant(name); }
    MemoryTenantStore& shared;
  };
  std::unique_ptr<TenantStore> make() { return std::make_unique<View>(store_); }

 private:
  MemoryTenantStore store_;
};

// The quota contract on process memory (one quota, shared as one process's threads share it).
class MemoryQuotaStorage {
 public:
  struct View final : TenantQuota {
    explicit View(MemoryTenantQuota& q) : shared(q) {}
    Result<Admission> admit(const std::string& t, const std::string& m, int max,
                            int64_t now) override {
      return shared.admit(t, m, max, now);
    }
    Status release(const std::string& t, const std::string& m) override {
      return shared.release(t, m);
    }
    Status reconcile(const std::map<std::string, std::vector<std::string>>& r, int64_t at,
                     int64_t grace) override {
      return shared.reconcile(r, at, grace);
    }
    Result<int> meetings(const std::string& t) override { return shared.meetings(t); }
    Result<bool> countCreate(const std::string& t, int n, int64_t now) override {
      return shared.countCreate(t, n, now);
    }
    Status setParticipants(const std::map<std::string, int>& p) override {
      return shared.setParticipants(p);
    }
    Result<int> participants(const std::string& t) override { return shared.participants(t); }
    MemoryTenantQuota& shared;
  };
  std::unique_ptr<TenantQuota> make() { return std::make_unique<View>(quota_); }

 private:
  MemoryTenantQuota quota_;
};

class TenantLimitsTest : public ::testing::Test {
 protected:
  Tenant limited(TenantLimits limits) {
    Tenant t = tenant("acme");
    t.limits = limits;
    return t;
  }
  MemoryTenantQuota quota_;
  ManualClock clock_;
  TenantLimitsGate gate_{quota_, clock_};
};

TEST_F(TenantLimitsTest, ATenantWithoutLimitsCountsNothing) {
  auto t = gate_.admit(tenant("acme"), "acme~a", 0);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->counted);
  EXPECT_EQ(*quota_.meetings("acme"), 0);
}

TEST_F(TenantLimitsTest, MeetingsPastTheLimitAreRefusedAndAFailedCreateIsUncounted) {
  const Tenant t = limited({.maxMeetings = 2});
  ASSERT_TRUE(gate_.admit(t, "acme~a", 0).ok());
  auto b = gate_.admit(t, "acme~b", 0);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->counted);
  auto full = gate_.admit(t, "acme~c", 0);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kMaxConcurrent);
  EXPECT_EQ(messageKey(full.error().code), "maxConcurrent");
  auto again = gate_.admit(t, "acme~a", 0);  // a create of a running meeting always passes
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->counted);
  gate_.settle(*b, /*created=*/false);  // b's create failed
  EXPECT_TRUE(gate_.admit(t, "acme~c", 0).ok());
}

TEST_F(TenantLimitsTest, NewMeetingsPerMinuteAndParticipantsAreLimitedToo) {
  const Tenant perMinute = limited({.createsPerMinute = 2});
  ASSERT_TRUE(gate_.admit(perMinute, "acme~1", 0).ok());
  ASSERT_TRUE(gate_.admit(perMinute, "acme~2", 0).ok());
  auto third = gate_.admit(perMinute, "acme~3", 0);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(*quota_.meetings("acme"), 2);  // the refused one left nothing behind
  clock_.advanceMs(60'000);
  EXPECT_TRUE(gate_.admit(perMinute, "acme~3", 0).ok());

  const Tenant crowd = limited({.maxParticipants = 100});
  ASSERT_TRUE(quota_.setParticipants({{"acme", 90}}).ok());
  EXPECT_TRUE(gate_.admit(crowd, "acme~small", 10).ok());
  auto big = gate_.admit(crowd, "acme~big", 11);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::kMaxConcurrent);
  ASSERT_TRUE(quota_.setParticipants({{"acme", 100}}).ok());
  EXPECT_FALSE(gate_.admit(crowd, "acme~any", 0).ok());  // full: any new meeting brings one
}

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, TenantStoreContract, MemoryTenantStorage);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, TenantQuotaContract, MemoryQuotaStorage);

}  // namespace sb
