#include "access/password_strength.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <sodium.h>
#include <zxcvbn.h>

#include "core/strings.hpp"

namespace sealpost::access {

namespace {

// zxcvbn's score from its guesses (the reference implementation's thresholds).
int score_of(double log10_guesses) {
  if (log10_guesses < 3) return 0;
  if (log10_guesses < 6) return 1;
  if (log10_guesses < 8) return 2;
  if (log10_guesses < 10) return 3;
  return 4;
}

std::string hint_for(int type, bool whole) {
  switch (type) {
    case DICTIONARY_MATCH:
      return whole ? "it is a common password or word" : "it is built from common words";
    case DICT_LEET_MATCH:
      return "it is a common word with predictable substitutions ('@' for 'a', '0' for 'o')";
    case USER_MATCH:
    case USER_LEET_MATCH:
      return "it contains the mailbox's own name or domain";
    case REPEATS_MATCH:
      return "it repeats characters or words";
    case SEQUENCE_MATCH:
      return "it contains a sequence like abc or 6543";
    case SPATIAL_MATCH:
      return "it contains a keyboard pattern like qwerty";
    case DATE_MATCH:
    case YEAR_MATCH:
      return "dates and years are easy to guess";
    default:
      return "";
  }
}

}  // namespace

PasswordStrength password_strength(std::string_view password,
                                   std::span<const std::string> user_words) {
  // zxcvbn reads a C string: a NUL ends it, which only makes the estimate lower.
  std::string scored(password.substr(0, std::min(password.size(), kMaxScoredBytes)));
  scored.resize(std::strlen(scored.c_str()));
  std::vector<const char*> dictionary;
  dictionary.reserve(user_words.size() + 1);
  for (const auto& w : user_words) dictionary.push_back(w.c_str());
  dictionary.push_back(nullptr);

  ZxcMatch_t* info = nullptr;
  const double bits = ZxcvbnMatch(scored.c_str(), dictionary.data(), &info);
  PasswordStrength s;
  s.log10_guesses = bits * std::log10(2.0);
  s.score = score_of(s.log10_guesses);
  // The pattern covering most of the password is what makes it guessable.
  const ZxcMatch_t* worst = nullptr;
  for (const ZxcMatch_t* m = info; m != nullptr; m = m->Next) {
    const int type = m->Type % MULTIPLE_MATCH;
    if (type == BRUTE_MATCH || type == NON_MATCH || type == LONG_PWD_MATCH) continue;
    if (worst == nullptr || m->Length > worst->Length) worst = m;
  }
  if (worst != nullptr) {
    // A digit or two added to a common password leaves it common.
    const bool whole = static_cast<std::size_t>(worst->Length) + 2 >= scored.size();
    s.hint = hint_for(worst->Type % MULTIPLE_MATCH, whole);
  } else if (scored.size() < 12) {
    s.hint = "it is too short";
  }
  ZxcvbnFreeInfo(info);
  sodium_memzero(scored.data(), scored.size());
  return s;
}

std::vector<std::string> address_words(std::string_view address) {
  std::vector<std::string> words;
  const auto add = [&](std::string_view w) {
    if (w.size() < 2) return;
    std::string word = to_lower_ascii(w);
    if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
  };
  // The whole, and each piece between separators.
  const auto add_pieces = [&](std::string_view text, std::string_view separators) {
    add(text);
    while (!text.empty()) {
      const auto cut = text.find_first_of(separators);
      add(text.substr(0, cut));
      if (cut == std::string_view::npos) break;
      text.remove_prefix(cut + 1);
    }
  };
  const auto at = address.rfind('@');
  add_pieces(address.substr(0, at), ".-_+");
  if (at != std::string_view::npos) add_pieces(address.substr(at + 1), ".-");
  return words;
}

std::optional<std::string> password_refusal(std::string_view password, std::string_view address,
                                            int min_score) {
  if (min_score <= 0) return std::nullopt;
  const auto words = address_words(address);
  const auto s = password_strength(password, words);
  if (s.score >= min_score) return std::nullopt;
  std::string reason = "password too weak (score " + std::to_string(s.score) + " of 4, at least " +
                       std::to_string(min_score) + " required)";
  reason += ": " + (s.hint.empty() ? std::string("it is easy to guess") : s.hint);
  reason += "; a few uncommon words together, or a password manager's, make a strong one";
  return reason;
}

}  // namespace sealpost::access
