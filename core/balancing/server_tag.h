// The `meta_server-tag` placement request, with Scalelite's semantics:
//   ""/"!"/"none"/"none!" -> untagged servers only
//   "t1;t2"               -> servers tagged t1 or t2, else fall back to untagged servers
//   "t1;t2!"              -> servers tagged t1 or t2, else serverTagUnavailable
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sb {

struct ServerTagRequest {
  std::vector<std::string> tags;  // empty = untagged servers only
  bool required = false;

  static ServerTagRequest parse(std::string_view value);
  // "t1;t2" (without the '!'), as shown in serverTagUnavailable.
  std::string joined() const;
};

}  // namespace sb
