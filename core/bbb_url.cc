#include "core/bbb_url.h"

namespace sb {

std::string signedApiUrl(const Server& server, std::string_view call, const QueryString& params,
                         ChecksumAlgorithm algorithm) {
  std::string query = params.encode();
  std::string checksum = computeChecksum(algorithm, call, query, server.secret);
  std::string url;
  url.reserve(server.url.size() + call.size() + query.size() + checksum.size() + 12);
  url += server.url;
  url += call;
  url += '?';
  if (!query.empty()) {
    url += query;
    url += '&';
  }
  url += "checksum=";
  url += checksum;
  return url;
}

std::string signedApiRootUrl(const Server& server, ChecksumAlgorithm algorithm) {
  return server.url + "?checksum=" + computeChecksum(algorithm, "", "", server.secret);
}

}  // namespace sb
