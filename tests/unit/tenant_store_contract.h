// The contract of every TenantStore (core/tenants/tenant_store.h): one typed test suite,
// instantiated for each store. A storage type T holds what the stores share (a file, a
// database) and makes stores on it:
//   struct T { std::unique_ptr<TenantStore> make(); };  // each call: a new store, same storage
// (as two processes, or a process after a restart, see it).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/tenants/tenant_store.h"

namespace sb {

// A tenant with every field set, so a store that drops one fails the round trip.
inline Tenant fullTenant(const std::string& name) {
  Tenant t;
  t.name = name;
  t.secrets = {name + "-secret-one-123", name + "-secret-two-456"};
  t.hosts = {"bbb." + name + ".example.org"};
  t.defaultCreateParams.append("record", "true");
  t.overrideCreateParams.append("meta_owner", "it's \"x\" & <y>");
  t.defaultJoinParams.append("userdata-bbb_skip_check_audio", "true");
  t.overrideJoinParams.append("guest", "false");
  t.serverTags = {name + "-tag"};
  t.tagFallback = false;
  t.limits = {3, 250, 60};
  t.enabled = false;
  return t;
}

template <typename T>
class TenantStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = storage_.make(); }
  T storage_;
  std::unique_ptr<TenantStore> store_;
};

TYPED_TEST_SUITE_P(TenantStoreContract);

TYPED_TEST_P(TenantStoreContract, WhatIsAddedIsReadBackWholeByAnotherStore) {
  const Tenant acme = fullTenant("acme");
  ASSERT_TRUE(this->store_->addTenant(acme).ok());
  auto other = this->storage_.make();
  auto found = other->findTenant("acme");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, acme);
  auto missing = other->findTenant("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TYPED_TEST_P(TenantStoreContract, ANameIsTakenOnce) {
  ASSERT_TRUE(this->store_->addTenant(fullTenant("acme")).ok());
  Tenant again = fullTenant("acme");
  again.secrets = {"another-secret-789"};
  auto s = this->store_->addTenant(again);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ((*this->store_->findTenant("acme"))->secrets, fullTenant("acme").secrets);
}

TYPED_TEST_P(TenantStoreContract, ListIsOrderedByNameAndUpdateReplacesWhole) {
  for (const char* n : {"zeta", "alpha", "mu"}) {
    ASSERT_TRUE(this->store_->addTenant(fullTenant(n)).ok());
  }
  Tenant mu = fullTenant("mu");
  mu.secrets = {"rotated-secret-000"};
  mu.hosts.clear();
  mu.limits = {};
  mu.enabled = true;
  ASSERT_TRUE(this->store_->updateTenant(mu).ok());
  auto all = this->storage_.make()->listTenants();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "alpha");
  EXPECT_EQ((*all)[1], mu);
  EXPECT_EQ((*all)[2].name, "zeta");
  Tenant ghost = fullTenant("ghost");
  auto s = this->store_->updateTenant(ghost);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(TenantStoreContract, RemoveSaysWhetherThereWasOne) {
  ASSERT_TRUE(this->store_->addTenant(fullTenant("acme")).ok());
  auto removed = this->store_->removeTenant("acme");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  auto again = this->store_->removeTenant("acme");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_FALSE(this->storage_.make()->findTenant("acme")->has_value());
}

REGISTER_TYPED_TEST_SUITE_P(TenantStoreContract, WhatIsAddedIsReadBackWholeByAnotherStore,
                            ANameIsTakenOnce, ListIsOrderedByNameAndUpdateReplacesWhole,
                            RemoveSaysWhetherThereWasOne);

}  // namespace sb
