#include "core/tenants/tenant_json.h"

namespace sb {
namespace {

using nlohmann::json;

json paramsToJson(const QueryString& q) {
  json out = json::object();
  for (const auto& p : q.params()) out[p.name] = p.value;
  return out;
}

Error wrongType(const char* field, const char* expected) {
  return Error::of(ErrorCode::kInvalidArgument,
                   std::string("tenant field \"") + field + "\" must be " + expected);
}

Status readStrings(const json& j, const char* field, std::vector<std::string>& out) {
  if (!j.contains(field)) return Status::Ok();
  const json& v = j.at(field);
  if (v.is_string() && std::string_view(field) == "secrets") {
    // Scalelite's form: one string, secrets separated by ':'.
    std::vector<std::string> read;
    std::string_view all = v.get_ref<const std::string&>();
    for (size_t start = 0; start <= all.size();) {
      size_t end = all.find(':', start);
      if (end == std::string_view::npos) end = all.size();
      if (end > start) read.emplace_back(all.substr(start, end - start));
      start = end + 1;
    }
    out = std::move(read);
    return Status::Ok();
  }
  if (!v.is_array()) return wrongType(field, "a list of strings");
  std::vector<std::string> read;
  for (const auto& e : v) {
    if (!e.is_string()) return wrongType(field, "a list of strings");
    read.push_back(e.get<std::string>());
  }
  out = std::move(read);
  return Status::Ok();
}

Status readParams(const json& j, const char* field, QueryString& out) {
  if (!j.contains(field)) return Status::Ok();
  const json& v = j.at(field);
  if (!v.is_object()) return wrongType(field, "an object of parameter names and values");
  QueryString read;
  for (const auto& [name, value] : v.items()) {
    if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
      return wrongType(field, "an object of parameter names and values");
    }
    read.append(name, value.is_string() ? value.get<std::string>() : value.dump());
  }
  out = std::move(read);
  return Status::Ok();
}

Status readInt(const json& j, const char* field, int& out) {
  if (!j.contains(field)) return Status::Ok();
  const json& v = j.at(field);
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 10'000'000) {
    return wrongType(field, "a whole number from 0 to 10000000");
  }
  out = static_cast<int>(v.get<int64_t>());
  return Status::Ok();
}

Status readBool(const json& j, const char* field, bool& out) {
  if (!j.contains(field)) return Status::Ok();
  if (!j.at(field).is_boolean()) return wrongType(field, "true or false");
  out = j.at(field).get<bool>();
  return Status::Ok();
}

// Reads every field `j` holds into `t` (the others stay as they are).
Status readInto(const json& j, Tenant& t) {
  if (!j.is_object()) return Error::of(ErrorCode::kInvalidArgument, "a tenant is a JSON object");
  if (j.contains("name")) {
    if (!j.at("name").is_string()) return wrongType("name", "a string");
    t.name = j.at("name").get<std::string>();
  }
  for (auto [field, target] : {std::pair{"secrets", &t.secrets}, std::pair{"hosts", &t.hosts},
                               std::pair{"server_tags", &t.serverTags}}) {
    if (auto s = readStrings(j, field, *target); !s.ok()) return s;
  }
  for (auto [field, target] : {std::pair{"default_create_params", &t.defaultCreateParams},
                               std::pair{"override_create_params", &t.overrideCreateParams},
                               std::pair{"default_join_params", &t.defaultJoinParams},
                               std::pair{"override_join_params", &t.overrideJoinParams}}) {
    if (auto s = readParams(j, field, *target); !s.ok()) return s;
  }
  if (auto s = readBool(j, "tag_fallback", t.tagFallback); !s.ok()) return s;
  if (auto s = readBool(j, "enabled", t.enabled); !s.ok()) return s;
  if (j.contains("limits")) {
    const json& l = j.at("limits");
    if (!l.is_object()) return wrongType("limits", "an object");
    for (auto [field, target] : {std::pair{"max_meetings", &t.limits.maxMeetings},
                                 std::pair{"max_participants", &t.limits.maxParticipants},
                                 std::pair{"creates_per_minute", &t.limits.createsPerMinute}}) {
      if (auto s = readInt(l, field, *target); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

json tenantToJson(const Tenant& t, bool secrets) {
  json j = {{"name", t.name},
            {"hosts", t.hosts},
            {"enabled", t.enabled},
            {"default_create_params", paramsToJson(t.defaultCreateParams)},
            {"override_create_params", paramsToJson(t.overrideCreateParams)},
            {"default_join_params", paramsToJson(t.defaultJoinParams)},
            {"override_join_params", paramsToJson(t.overrideJoinParams)},
            {"server_tags", t.serverTags},
            {"tag_fallback", t.tagFallback},
            {"limits",
             {{"max_meetings", t.limits.maxMeetings},
              {"max_participants", t.limits.maxParticipants},
              {"creates_per_minute", t.limits.createsPerMinute}}}};
  if (secrets) {
    j["secrets"] = t.secrets;
  } else {
    j["secrets_count"] = t.secrets.size();
  }
  return j;
}

Result<Tenant> tenantFromJson(const json& j) { return tenantUpdatedBy(Tenant{}, j); }

Result<Tenant> tenantUpdatedBy(Tenant tenant, const json& changes) {
  if (auto s = readInto(changes, tenant); !s.ok()) return s.error();
  return tenant;
}

}  // namespace sb
