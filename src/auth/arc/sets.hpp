// The ARC sets of a message (RFC 8617 section 4.1): ARC-Seal, ARC-Message-Signature and
// ARC-Authentication-Results fields grouped by instance, with the structural checks of section
// 5.2 (instances 1..N each complete and unique, N <= 50, cv= in sequence). Pure: no DNS, no
// crypto; hostile input gets an error, never a half-built chain.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "mime/header.hpp"

namespace sealpost::auth::arc {

constexpr int kMaxInstances = 50;  // section 4.2.1

struct Set {
  const mime::HeaderField* as = nullptr;
  const mime::HeaderField* ams = nullptr;
  const mime::HeaderField* aar = nullptr;
  std::string cv;  // the seal's cv= value
};

struct Sets {
  std::map<int, Set> by_instance;
  int instances = 0;         // the highest i=; 0: no ARC field at all
  bool newest_fail = false;  // the newest seal says cv=fail
  std::string problem;       // empty: the structure is sound
};

Sets collect_sets(const mime::Header& header);

}  // namespace sealpost::auth::arc
