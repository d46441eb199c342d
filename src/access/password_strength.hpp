// How hard a password a user chooses is to guess, with zxcvbn (Debian's libzxcvbn, the C port):
// it finds the dictionary words, names, keyboard walks, sequences, repeats and dates a password
// is built from and estimates the guesses an attacker who knows those patterns needs. Argon2id
// makes each guess slow, but a password in the first thousand guesses falls anyway: a sealed
// mailbox is only as private as its password.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::access {

struct PasswordStrength {
  int score = 0;  // zxcvbn's 0..4: guesses < 10^3, < 10^6, < 10^8, < 10^10, more
  double log10_guesses = 0;
  std::string hint;  // what makes it weak, for the refusal ("" when nothing stands out)
};

// `user_words` are words an attacker knows of this user (the address's parts): a password built
// from them counts as weak. Only the first kMaxScoredBytes bytes are scored (zxcvbn's matching
// grows with the length; a password longer than that is strong on length alone).
inline constexpr std::size_t kMaxScoredBytes = 128;
PasswordStrength password_strength(std::string_view password,
                                   std::span<const std::string> user_words);

// The words of an address an attacker would try first: "j.doe@mail.example.com" gives "j.doe",
// "doe", "mail", "example", "example.com"...
std::vector<std::string> address_words(std::string_view address);

// Nullopt when `password` reaches `min_score` (0 accepts anything); otherwise the refusal, e.g.
// "password too weak (score 1 of 4, at least 3 required): it is a common password".
std::optional<std::string> password_refusal(std::string_view password, std::string_view address,
                                            int min_score);

}  // namespace sealpost::access
