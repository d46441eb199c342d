#include "filter/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/config.hpp"
#include "core/strings.hpp"
#include "mime/header.hpp"

namespace sealpost::filter {
namespace {

// A score as written in the header and the explanation: one decimal, "-" when negative.
std::string format_score(double score) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.1f", score);
  std::string out(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  return out == "-0.0" ? "0.0" : out;
}

// A finding's effect on the verdict: a refusal outranks a deferral, which outranks nothing.
int strength(const std::optional<Action>& decides) noexcept {
  if (!decides) return 0;
  return *decides == Action::kReject ? 2 : *decides == Action::kTempfail ? 1 : 0;
}

// The longest text an SMTP reply line carries here: RFC 5321 4.5.3.1.5 allows 512 octets with
// the code and CRLF.
constexpr std::size_t kMaxReplyText = 400;

}  // namespace

std::string_view action_name(Action action) noexcept {
  switch (action) {
    case Action::kAccept:
      return "accept";
    case Action::kJunk:
      return "junk";
    case Action::kReject:
      return "reject";
    case Action::kTempfail:
      return "tempfail";
  }
  return "accept";
}

Verdict decide(std::vector<Finding> findings, const Policy& policy) {
  Verdict v;
  v.required = policy.junk_at;
  // Each symbol once: scores added, the first reason kept, the strongest decision kept.
  std::map<std::string, Finding, std::less<>> merged;
  for (auto& f : findings) {
    if (!core::is_filter_symbol(f.symbol)) f.symbol = "INVALID_SYMBOL";
    if (!std::isfinite(f.score)) f.score = 0;
    if (f.decides == Action::kAccept || f.decides == Action::kJunk) f.decides.reset();
    auto [it, fresh] = merged.try_emplace(f.symbol);
    Finding& m = it->second;
    if (fresh) {
      m = std::move(f);
      continue;
    }
    m.score += f.score;
    if (strength(f.decides) > strength(m.decides)) m.decides = f.decides;
  }
  int decided = 0;
  for (auto& [symbol, f] : merged) {
    if (const auto it = policy.scores.find(symbol); it != policy.scores.end()) f.score = it->second;
    v.score += f.score;
    decided = std::max(decided, strength(f.decides));
    v.findings.push_back(std::move(f));
  }
  std::stable_sort(v.findings.begin(), v.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.score > b.score; });
  // What decided is kept whatever its score; past the bound, the smallest scores go.
  if (v.findings.size() > kMaxFindings) {
    std::stable_partition(v.findings.begin(), v.findings.end(),
                          [](const Finding& f) { return f.decides.has_value(); });
    v.findings.resize(kMaxFindings);
    std::stable_sort(v.findings.begin(), v.findings.end(),
                     [](const Finding& a, const Finding& b) { return a.score > b.score; });
  }
  if (decided == 2) {
    v.action = Action::kReject;
  } else if (decided == 1) {
    v.action = Action::kTempfail;
  } else if (v.score >= policy.reject_at) {
    v.action = policy.at_reject_score == Action::kJunk ? Action::kJunk : Action::kReject;
  } else if (v.score >= policy.junk_at) {
    v.action = Action::kJunk;
  }
  return v;
}

Policy policy_from(const core::Filter& settings) {
  Policy p;
  p.junk_at = settings.junk_score;
  p.reject_at = settings.reject_score;
  p.at_reject_score = settings.spam_action == "junk" ? Action::kJunk : Action::kReject;
  p.scores.insert(settings.scores.begin(), settings.scores.end());
  return p;
}

std::string status_header(const Verdict& verdict) {
  std::string out = verdict.action == Action::kAccept ? "No" : "Yes";
  out += ", score=" + format_score(verdict.score);
  out += " required=" + format_score(verdict.required);
  out += " action=";
  out += action_name(verdict.action);
  out += " tests=";
  bool first = true;
  for (const auto& f : verdict.findings) {
    if (!first) out += ',';
    first = false;
    out += f.symbol;
    out += '=';
    out += format_score(f.score);
  }
  if (first) out += "NONE";
  return out;
}

std::string status_field(const Verdict& verdict) {
  constexpr std::size_t kLine = 78;
  const std::string value = status_header(verdict);
  std::string out = "X-Spam-Status:";
  std::size_t line = out.size();
  // Words end at a space (dropped: the fold or one space takes its place) or after a comma.
  std::size_t pos = 0;
  bool after_space = true;
  while (pos < value.size()) {
    const std::size_t end = value.find_first_of(" ,", pos);
    const std::size_t stop = end == std::string::npos ? value.size() : end + 1;
    std::string_view word(value.data() + pos, stop - pos);
    const bool ends_in_space = !word.empty() && word.back() == ' ';
    if (ends_in_space) word.remove_suffix(1);
    const std::size_t lead = after_space ? 1 : 0;
    if (line + lead + word.size() > kLine && line > 1) {
      out += "\r\n\t";
      line = 1;
    } else if (after_space) {
      out += ' ';
      ++line;
    }
    out += word;
    line += word.size();
    after_space = ends_in_space;
    pos = stop;
  }
  return out + "\r\n";
}

std::optional<Reply> smtp_reply(const Verdict& verdict) {
  if (verdict.action != Action::kReject && verdict.action != Action::kTempfail) return std::nullopt;
  const bool reject = verdict.action == Action::kReject;
  Reply r;
  r.code = reject ? 550 : 451;
  r.enhanced = reject ? "5.7.1" : "4.7.1";
  r.text = reject ? "Message refused by the content filter:" : "Message deferred, try again later:";
  // The findings that made the verdict: those that decided it, or that added to the score.
  const auto counts = [&](const Finding& f) {
    return verdict.action == Action::kTempfail ? f.decides == Action::kTempfail
                                               : (f.decides == Action::kReject || f.score > 0);
  };
  bool any = false;
  for (const auto& f : verdict.findings) {
    if (!counts(f)) continue;
    if (r.text.size() + f.symbol.size() + 2 > kMaxReplyText) {
      r.text += " ...";
      break;
    }
    r.text += any ? ", " : " ";
    r.text += f.symbol;
    any = true;
  }
  return r;
}

std::string symbol_list(const Verdict& verdict) {
  std::string out;
  for (const auto& f : verdict.findings) {
    if (!out.empty()) out += ',';
    out += f.symbol;
  }
  return out;
}

std::optional<std::string> without_spam_fields(std::string_view message) {
  const auto header = mime::split_header(message);
  if (!header) return std::nullopt;
  std::string out;
  std::size_t kept_from = 0;
  for (const auto& field : header.value().fields) {
    if (!istarts_with(field.name, "X-Spam-")) continue;
    const auto at = static_cast<std::size_t>(field.raw.data() - message.data());
    if (out.empty()) out.reserve(message.size());
    out.append(message.substr(kept_from, at - kept_from));
    kept_from = at + field.raw.size();
  }
  if (kept_from == 0) return std::nullopt;
  out.append(message.substr(kept_from));
  return out;
}

}  // namespace sealpost::filter
