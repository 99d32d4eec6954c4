#include "core/tenants/tenant_scope.h"

#include <algorithm>
#include <vector>

#include "core/meeting_elements.h"
#include "core/tenants/tenant.h"

namespace sb {

namespace {

// `params` with `defaults` it lacks added and `overrides` set.
void layer(QueryString& params, const QueryString& defaults, const QueryString& overrides) {
  params.appendMissing(defaults);
  for (const auto& p : overrides.params()) params.set(p.name, p.value);
}

// The tenant's server tags: a create without a tag gets its first; a tenant that may not fall
// back to untagged servers is held to its own tags whatever the frontend asks.
void placeByTenantTags(QueryString& params, const Tenant& t) {
  std::vector<std::string_view> tags;
  for (const auto& tag : t.serverTags) {
    if (!tag.empty()) tags.push_back(tag);
  }
  if (tags.empty()) return;
  std::string_view asked = params.get("meta_server-tag").value_or("");
  if (asked.ends_with('!')) asked.remove_suffix(1);
  const bool own = std::find(tags.begin(), tags.end(), asked) != tags.end();
  if (asked.empty() || (!own && !t.tagFallback)) {
    params.set("meta_server-tag", std::string(tags.front()) + (t.tagFallback ? "" : "!"));
  } else if (own && !t.tagFallback) {
    params.set("meta_server-tag", std::string(asked) + "!");
  }
}

}  // namespace

Status scopeToTenant(ApiRequest& request, const Tenant& t) {
  request.context.tenant = t.name;
  const std::string& tenant = t.name;
  auto ids = request.params.get("meetingID");
  if (ids && !ids->empty()) {
    // getRecordings takes several IDs, comma-separated (a comma is never part of a BBB ID).
    const bool several = request.call == "getRecordings";
    std::string scoped;
    size_t start = 0;
    while (start <= ids->size()) {
      size_t end = several ? ids->find(',', start) : std::string_view::npos;
      if (end == std::string_view::npos) end = ids->size();
      std::string_view id = ids->substr(start, end - start);
      if (utf8Length(id) > maxMeetingIdLength(tenant)) {
        return Error::of(ErrorCode::kValidationError,
                         "Meeting ID must be between 2 and " +
                             std::to_string(maxMeetingIdLength(tenant)) + " characters");
      }
      if (!scoped.empty() || start > 0) scoped += ',';
      if (!id.empty()) scoped += scopedMeetingId(tenant, id);
      start = end + 1;
    }
    request.params.set("meetingID", scoped);
  }
  if (request.call == "create") {
    layer(request.params, t.defaultCreateParams, t.overrideCreateParams);
    placeByTenantTags(request.params, t);
    request.params.set("meta_tenant-id", tenant);
    request.params.set("meta_tenant-name", tenant);
  } else if (request.call == "join") {
    layer(request.params, t.defaultJoinParams, t.overrideJoinParams);
  }
  return Status::Ok();
}

std::string unscopeAnswer(std::string_view tenant, std::string xml) {
  if (tenant.empty()) return xml;
  const std::string scoped = "<meetingID>" + std::string(tenant) + "~";
  std::string out;
  out.reserve(xml.size());
  size_t pos = 0;
  for (size_t at; (at = xml.find(scoped, pos)) != std::string::npos; pos = at + scoped.size()) {
    out.append(xml, pos, at - pos).append("<meetingID>");
  }
  if (pos == 0) return xml;
  out.append(xml, pos);
  return out;
}

std::string tenantMeetings(std::string_view tenant, std::string_view meetingsXml) {
  std::string out;
  forEachMeetingElement(meetingsXml, [&](std::string_view element) {
    if (unscopedMeetingId(tenant, meetingIdOf(element))) {
      out += unscopeAnswer(tenant, std::string(element));
    }
  });
  return out;
}

}  // namespace sb
