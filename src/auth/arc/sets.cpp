#include "auth/arc/sets.hpp"

#include <optional>

#include "auth/dkim/record.hpp"
#include "core/strings.hpp"

namespace sealpost::auth::arc {

namespace {

std::optional<int> parse_instance(std::string_view v) {
  const auto n = parse_decimal(v, 2);
  if (!n || *n < 1 || *n > kMaxInstances) return std::nullopt;
  return static_cast<int>(*n);
}

// An AAR starts "i=N;"; AS and AMS carry i= as one of their tags.
std::optional<int> instance_of(const mime::HeaderField& f, bool aar, std::string* cv) {
  if (aar) {
    auto tags = dkim::parse_tags(f.value.substr(0, f.value.find(';')));
    if (!tags || tags->size() != 1 || tags->front().name != "i") return std::nullopt;
    return parse_instance(tags->front().value);
  }
  auto tags = dkim::parse_tags(f.value);
  if (!tags) return std::nullopt;
  std::optional<int> i;
  for (const auto& t : tags.value()) {
    if (t.name == "i") i = parse_instance(t.value);
    if (t.name == "cv" && cv) *cv = std::string(t.value);
  }
  return i;
}

}  // namespace

Sets collect_sets(const mime::Header& header) {
  Sets s;
  bool any = false;
  for (const auto& f : header.fields) {
    const bool is_as = iequals(f.name, "ARC-Seal");
    const bool is_ams = iequals(f.name, "ARC-Message-Signature");
    const bool is_aar = iequals(f.name, "ARC-Authentication-Results");
    if (!is_as && !is_ams && !is_aar) continue;
    any = true;
    std::string cv;
    const auto i = instance_of(f, is_aar, is_as ? &cv : nullptr);
    if (!i) {
      s.problem = "malformed ARC header field";
      continue;
    }
    Set& set = s.by_instance[*i];
    const mime::HeaderField** slot = is_as ? &set.as : is_ams ? &set.ams : &set.aar;
    if (*slot) s.problem = "duplicate ARC header field";
    *slot = &f;
    if (is_as) set.cv = cv;
  }
  if (!any) return s;
  s.instances = s.by_instance.empty() ? 0 : s.by_instance.rbegin()->first;
  if (!s.problem.empty()) return s;
  for (int i = 1; i <= s.instances; ++i) {
    const auto it = s.by_instance.find(i);
    if (it == s.by_instance.end() || !it->second.as || !it->second.ams || !it->second.aar) {
      s.problem = "ARC set " + std::to_string(i) + " incomplete";
      return s;
    }
  }
  // Section 5.2: cv= is none for the first seal and pass for the others; a newest "fail" ends it.
  for (int i = 1; i <= s.instances; ++i) {
    const std::string& cv = s.by_instance[i].cv;
    if (cv.empty()) {
      s.problem = "AS lacks cv=";
      return s;
    }
    if (i == s.instances && cv == "fail") {
      s.newest_fail = true;
      s.problem = "the newest seal says cv=fail";
      return s;
    }
    if (cv != (i == 1 ? "none" : "pass")) {
      s.problem = "AS cv= out of sequence";
      return s;
    }
  }
  return s;
}

}  // namespace sealpost::auth::arc
