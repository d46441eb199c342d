#include "filter/lookalike.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <sodium.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>

#include "auth/dmarc/public_suffix.hpp"
#include "core/domain.hpp"
#include "core/utf8.hpp"

namespace sealpost::filter {
namespace {

constexpr double kHomographScore = 6;
constexpr double kLookalikeFromScore = 5;
constexpr double kLookalikeLinkScore = 4;
// Labels shorter than this are compared by skeleton only, not by edit distance.
constexpr std::size_t kMinEditLength = 5;

// The single-identifier checks PHISH_HOMOGRAPH takes from UTS #39. Confusable checks between
// two strings are made by comparing skeletons.
constexpr std::int32_t kChecks =
    USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS | USPOOF_HIDDEN_OVERLAY;

// One checker for the process, configured once and then only read: uspoof.h says the functions
// that take a const USpoofChecker (uspoof_check2UTF8, uspoof_getSkeletonUTF8) are thread safe.
// Never closed: threads may still check while the process exits. Null when ICU's data cannot be
// loaded; no finding is made then.
const USpoofChecker* spoof_checker() {
  static const USpoofChecker* const checker = [] {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker* sc = uspoof_open(&status);
    if (U_FAILURE(status) || sc == nullptr) return static_cast<USpoofChecker*>(nullptr);
    // Latin with one other script except Cyrillic, Greek and Cherokee, whose letters pass for
    // Latin ones: the level uspoof.h recommends.
    uspoof_setRestrictionLevel(sc, USPOOF_MODERATELY_RESTRICTIVE);
    uspoof_setChecks(sc, kChecks, &status);
    if (U_FAILURE(status)) {
      uspoof_close(sc);
      return static_cast<USpoofChecker*>(nullptr);
    }
    return sc;
  }();
  return checker;
}

// UTS #39's skeleton of `text` (UTF-8): two strings that look alike have the same one.
std::optional<std::string> skeleton(std::string_view text) {
  const USpoofChecker* sc = spoof_checker();
  if (sc == nullptr || text.size() > 1024) return std::nullopt;
  const auto length = static_cast<std::int32_t>(text.size());
  std::string out(text.size() * 2 + 16, '\0');
  UErrorCode status = U_ZERO_ERROR;
  std::int32_t n = uspoof_getSkeletonUTF8(sc, 0, text.data(), length, out.data(),
                                          static_cast<std::int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR && n > 0) {
    out.resize(static_cast<std::size_t>(n));
    status = U_ZERO_ERROR;
    n = uspoof_getSkeletonUTF8(sc, 0, text.data(), length, out.data(), n, &status);
  }
  if (U_FAILURE(status) || n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::u32string code_points(std::string_view utf8) {
  std::u32string out;
  while (!utf8.empty()) {
    const core::Utf8Sequence seq = core::next_utf8(utf8);
    if (seq.length == 0) {
      out.push_back(U'\uFFFD');
      utf8.remove_prefix(seq.ill_formed);
    } else {
      out.push_back(seq.code_point);
      utf8.remove_prefix(seq.length);
    }
  }
  return out;
}

// 0 when equal, 1 when one edit apart (an insertion, a deletion, a substitution or a
// transposition of neighbours), 2 when further. Linear.
int edit_distance_up_to_one(std::u32string_view a, std::u32string_view b) {
  if (a == b) return 0;
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return 2;
  std::size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (a.size() < b.size()) return a.substr(i) == b.substr(i + 1) ? 1 : 2;
  if (a.substr(i + 1) == b.substr(i + 1)) return 1;
  const bool swapped = i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
                       a.substr(i + 2) == b.substr(i + 2);
  return swapped ? 1 : 2;
}

// A host name as to_a_label leaves it: ASCII letters, digits and hyphens, lowercase, at most
// 253 octets in labels of 63.
bool is_a_label_domain(std::string_view domain) {
  const auto a = core::to_a_label(domain);
  return a && *a == domain;
}

std::string_view top_level(std::string_view domain) {
  const std::size_t dot = domain.rfind('.');
  return dot == std::string_view::npos ? domain : domain.substr(dot + 1);
}

// Country TLDs of countries written in Cyrillic, Greek or Armenian, whose letters pass for Latin
// ones: a label wholly in those look-alikes is a word there ("сахар.ru"), not an imitation of a
// Latin name. An internationalised TLD is in its own script too.
bool tld_of_lookalike_script(std::string_view tld) {
  constexpr std::array<std::string_view, 14> kTlds = {"am", "bg", "by", "cy", "gr", "kg", "kz",
                                                      "mk", "mn", "rs", "ru", "su", "tj", "ua"};
  return tld.substr(0, 4) == "xn--" || std::find(kTlds.begin(), kTlds.end(), tld) != kTlds.end();
}

// A label in one script other than Latin whose skeleton is ASCII: every letter passes for a
// Latin one (Cyrillic "аррӏе", skeleton "appie"). Latin labels are left out: a Turkish "ı" or a
// Danish "æ" has an ASCII skeleton too, and imitating a name in Latin letters is the lookalike
// check's part.
bool imitates_latin(std::string_view label) {
  bool other_script = false;
  for (const char32_t cp : code_points(label)) {
    UErrorCode status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(static_cast<UChar32>(cp), &status);
    if (U_FAILURE(status) || script == USCRIPT_LATIN) return false;
    if (script != USCRIPT_COMMON && script != USCRIPT_INHERITED) other_script = true;
  }
  if (!other_script) return false;
  const auto skel = skeleton(label);
  return skel && std::all_of(skel->begin(), skel->end(),
                             [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::optional<std::string_view> label_homograph(std::string_view u_label, bool lookalike_tld) {
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t found = uspoof_check2UTF8(
      spoof_checker(), u_label.data(), static_cast<std::int32_t>(u_label.size()), nullptr, &status);
  if (U_FAILURE(status)) return std::nullopt;
  if ((found & USPOOF_RESTRICTION_LEVEL) != 0) return "mixes scripts";
  if ((found & (USPOOF_INVISIBLE | USPOOF_HIDDEN_OVERLAY)) != 0) return "hides characters";
  if ((found & USPOOF_MIXED_NUMBERS) != 0) return "mixes digits of different scripts";
  if (!lookalike_tld && imitates_latin(u_label)) return "imitates Latin letters";
  return std::nullopt;
}

// "xn--80ak6aa92e.com (аррӏе.com)": the name as a browser's address bar may show it too.
std::string shown(std::string_view domain) {
  std::string out(domain);
  if (const auto u = core::to_u_label(domain); u && *u != domain) out.append(" (" + *u + ")");
  return out;
}

}  // namespace

std::optional<std::string_view> homograph(std::string_view domain) {
  if (spoof_checker() == nullptr || !is_a_label_domain(domain)) return std::nullopt;
  const bool lookalike_tld = tld_of_lookalike_script(top_level(domain));
  std::size_t start = 0;
  while (start <= domain.size()) {
    const std::size_t end = std::min(domain.find('.', start), domain.size());
    const std::string_view label = domain.substr(start, end - start);
    start = end + 1;
    if (label.substr(0, 4) != "xn--") continue;
    const auto u_label = core::to_u_label(label);
    if (!u_label) continue;  // not Punycode: no browser shows it otherwise
    if (auto why = label_homograph(*u_label, lookalike_tld)) return why;
  }
  return std::nullopt;
}

// Strings within one edit of a query, found without comparing the query with each: every
// string is filed under its hash and the hashes of its one-deletion forms. A string one edit
// from the query shares one of those with the query's own, its deletions or its transpositions;
// what the hashes bring is then compared. The keys are a sorted vector: a query is two binary
// searches per character, whatever the number of strings.
class NeighbourIndex {
 public:
  // `near`: whether one-edit neighbours are found, or only equal strings. Then sort().
  void add(std::u32string s, std::size_t id, bool near) {
    keys_.emplace_back(hash(s), id);
    if (near) {
      std::u32string t;
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (i > 0 && s[i] == s[i - 1]) continue;  // the same deletion as the previous one
        keys_.emplace_back(hash(without(s, i, t)), id);
      }
    }
    strings_.emplace(id, std::move(s));
  }
  void sort() { std::sort(keys_.begin(), keys_.end()); }

  // (id, distance) of the strings equal to `q` (0) or, when `near`, one edit from it (1).
  [[nodiscard]] std::vector<std::pair<std::size_t, int>> find(const std::u32string& q,
                                                              bool near) const {
    std::vector<std::size_t> ids;
    const auto collect = [&](std::size_t h) {
      auto it =
          std::lower_bound(keys_.begin(), keys_.end(), std::pair<std::size_t, std::size_t>(h, 0));
      for (; it != keys_.end() && it->first == h; ++it) ids.push_back(it->second);
    };
    collect(hash(q));
    if (near) {
      std::u32string t;
      for (std::size_t i = 0; i < q.size(); ++i) collect(hash(without(q, i, t)));
      for (std::size_t i = 0; i + 1 < q.size(); ++i) {
        if (q[i] == q[i + 1]) continue;
        t = q;
        std::swap(t[i], t[i + 1]);
        collect(hash(t));
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::pair<std::size_t, int>> out;
    for (const std::size_t id : ids) {
      const int d = edit_distance_up_to_one(q, strings_.at(id));
      if (d == 0 || (near && d == 1)) out.emplace_back(id, d);
    }
    return out;
  }

 private:
  static std::size_t hash(std::u32string_view s) { return std::hash<std::u32string_view>{}(s); }
  // `s` without its character at `i`, in `buffer`.
  static std::u32string_view without(std::u32string_view s, std::size_t i, std::u32string& buffer) {
    buffer.assign(s.substr(0, i));
    buffer.append(s.substr(i + 1));
    return buffer;
  }

  std::vector<std::pair<std::size_t, std::size_t>> keys_;  // (hash, id), sorted
  std::unordered_map<std::size_t, std::u32string> strings_;
};

struct ProtectedDomains::Index {
  struct Entry {
    std::string domain;  // organisational, A-labels
    std::string label;   // its registrable label, Unicode
    std::size_t length;  // of the label, in code points
  };
  std::vector<Entry> entries;  // the own domains first
  std::unordered_set<std::string> domains;
  NeighbourIndex labels;
  NeighbourIndex label_skeletons;
  std::unordered_multimap<std::string, std::size_t> domain_skeletons;
};

namespace {

// A domain's organisational domain and its registrable label, in Unicode; nullopt for what is
// not a host name or has no label left of its public suffix.
struct Registrable {
  std::string domain;  // A-labels
  std::string u_domain;
  std::string u_label;
};

std::optional<Registrable> registrable(std::string_view domain,
                                       const auth::dmarc::PublicSuffixList& psl) {
  if (!is_a_label_domain(domain)) return std::nullopt;
  Registrable r;
  r.domain = psl.organizational_domain(domain);
  const std::size_t dot = r.domain.find('.');
  if (dot == std::string::npos || psl.is_public_suffix(r.domain)) return std::nullopt;
  const std::string_view label = std::string_view(r.domain).substr(0, dot);
  r.u_domain = core::to_u_label(r.domain).value_or(r.domain);
  r.u_label = core::to_u_label(label).value_or(std::string(label));
  return r;
}

}  // namespace

ProtectedDomains::ProtectedDomains(const auth::dmarc::PublicSuffixList& psl,
                                   const std::vector<std::string>& own)
    : psl_(&psl), index_(std::make_unique<Index>()), memo_(std::make_unique<Memo>()) {
  std::vector<std::string> names;
  for (const auto& d : own) {
    if (names.size() == kMaxOwnDomains) break;
    if (auto a = core::to_a_label(d)) names.push_back(std::move(*a));
  }
  for (const auto brand : kImpersonatedBrands) names.emplace_back(brand);
  for (const auto& name : names) {
    auto r = registrable(name, psl);
    if (!r || !index_->domains.insert(r->domain).second) continue;
    const std::size_t id = index_->entries.size();
    std::u32string label = code_points(r->u_label);
    const bool near = label.size() >= kMinEditLength;
    if (const auto skel = skeleton(r->u_label)) {
      index_->label_skeletons.add(code_points(*skel), id, near);
    }
    if (const auto skel = skeleton(r->u_domain)) index_->domain_skeletons.emplace(*skel, id);
    index_->entries.push_back({r->domain, r->u_label, label.size()});
    index_->labels.add(std::move(label), id, near);
  }
  index_->labels.sort();
  index_->label_skeletons.sort();
}

ProtectedDomains::~ProtectedDomains() = default;

std::size_t ProtectedDomains::size() const {
  return index_->entries.size();
}

// The answers of imitated() for the domains seen lately: mail names the same few thousand
// domains again and again, and the answer costs ICU's skeletons and the index's searches (tens of
// microseconds). Kept by a keyed hash of the domain (SipHash, a key of this process's), never the
// domain itself; bounded: emptied when full.
class ProtectedDomains::Memo {
 public:
  static constexpr std::size_t kMaxEntries = 16384;
  static constexpr std::size_t kNone = 0;  // imitates nothing; otherwise an entry's id + 1

  Memo() { crypto_shorthash_keygen(key_.data()); }

  [[nodiscard]] std::uint64_t hash(std::string_view domain) const {
    std::uint64_t h = 0;
    crypto_shorthash(reinterpret_cast<unsigned char*>(&h),
                     reinterpret_cast<const unsigned char*>(domain.data()), domain.size(),
                     key_.data());
    return h;
  }
  std::optional<std::size_t> get(std::uint64_t hash) {
    const std::lock_guard lock(mutex_);
    const auto it = answers_.find(hash);
    if (it == answers_.end()) return std::nullopt;
    return it->second;
  }
  void put(std::uint64_t hash, std::size_t answer) {
    const std::lock_guard lock(mutex_);
    if (answers_.size() >= kMaxEntries) answers_.clear();
    answers_.emplace(hash, answer);
  }

 private:
  std::array<unsigned char, crypto_shorthash_KEYBYTES> key_{};
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::size_t> answers_;
};

std::optional<std::string> ProtectedDomains::imitated(std::string_view domain) const {
  const std::uint64_t key = memo_->hash(domain);
  std::size_t answer = Memo::kNone;
  if (const auto known = memo_->get(key)) {
    answer = *known;
  } else {
    answer = imitated_id(domain);
    memo_->put(key, answer);
  }
  if (answer == Memo::kNone) return std::nullopt;
  return index_->entries[answer - 1].domain;
}

std::size_t ProtectedDomains::imitated_id(std::string_view domain) const {
  const auto r = registrable(domain, *psl_);
  if (!r || index_->domains.count(r->domain) > 0) return Memo::kNone;
  const std::u32string label = code_points(r->u_label);
  const bool near = label.size() >= kMinEditLength;
  std::size_t best = SIZE_MAX;
  // Another label (the same one under another suffix is the brand's own, as often as not)
  // that looks the same, or is one edit from looking the same; or one edit from being the same.
  const auto consider = [&](std::size_t id, int distance) {
    const Index::Entry& e = index_->entries[id];
    if (e.label == r->u_label) return;
    if (distance == 1 && e.length < kMinEditLength) return;
    best = std::min(best, id);
  };
  for (const auto& [id, d] : index_->labels.find(label, near)) consider(id, d);
  if (const auto skel = skeleton(r->u_label)) {
    for (const auto& [id, d] : index_->label_skeletons.find(code_points(*skel), near)) {
      consider(id, d);
    }
  }
  if (const auto skel = skeleton(r->u_domain)) {
    const auto [first, last] = index_->domain_skeletons.equal_range(*skel);
    for (auto it = first; it != last; ++it) best = std::min(best, it->second);
  }
  return best == SIZE_MAX ? Memo::kNone : best + 1;
}

std::vector<Finding> lookalike_findings(std::string_view from_domain, const std::vector<Url>& links,
                                        const ProtectedDomains* protect) {
  std::optional<Finding> homograph_finding;
  std::optional<Finding> lookalike_finding;
  std::unordered_set<std::string_view> seen;
  const auto check = [&](std::string_view domain, bool from) {
    if (!seen.insert(domain).second) return;
    if (!homograph_finding) {
      if (const auto why = homograph(domain)) {
        homograph_finding =
            Finding{"PHISH_HOMOGRAPH",
                    kHomographScore,
                    from ? "the From: domain " + shown(domain) + " " + std::string(*why)
                         : "a link to " + shown(domain) + ", a name that " + std::string(*why),
                    {}};
      }
    }
    if (!lookalike_finding && protect != nullptr) {
      if (const auto original = protect->imitated(domain)) {
        lookalike_finding = Finding{"PHISH_LOOKALIKE_DOMAIN",
                                    from ? kLookalikeFromScore : kLookalikeLinkScore,
                                    (from ? "the From: domain " : "a link to ") + shown(domain) +
                                        " looks like " + *original,
                                    {}};
      }
    }
  };
  if (!from_domain.empty()) check(from_domain, true);
  for (const Url& url : links) {
    if (seen.size() >= kMaxLookalikeDomains) break;
    if (homograph_finding && (lookalike_finding || protect == nullptr)) break;
    if (!url.ip_host) check(url.host, false);
  }
  std::vector<Finding> out;
  if (homograph_finding) out.push_back(std::move(*homograph_finding));
  if (lookalike_finding) out.push_back(std::move(*lookalike_finding));
  return out;
}

}  // namespace sealpost::filter
