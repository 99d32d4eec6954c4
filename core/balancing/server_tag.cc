#include "core/balancing/server_tag.h"

namespace sb {

ServerTagRequest ServerTagRequest::parse(std::string_view value) {
  ServerTagRequest r;
  if (!value.empty() && value.back() == '!') {
    r.required = true;
    value.remove_suffix(1);
  }
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t semi = value.find(';', pos);
    if (semi == std::string_view::npos) semi = value.size();
    std::string_view tag = value.substr(pos, semi - pos);
    if (!tag.empty() && tag != "none") r.tags.emplace_back(tag);
    pos = semi + 1;
  }
  if (r.tags.empty()) r.required = false;  // "!" and "none!" mean "untagged"
  return r;
}

std::string ServerTagRequest::joined() const {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out += ';';
    out += t;
  }
  return out;
}

}  // namespace sb
