// Private to message_store*.cpp: what the files MessageStore is split into share. The class is
// split by subject: message_store_schema.cpp (the tables, their migrations, opening),
// message_store_folders.cpp (folders: create, rename, delete, subscribe),
// message_store_append.cpp (new messages, their threads, and the quota they are held to),
// message_store_bodies.cpp (the message bytes, compressed, and the facts kept with them),
// message_store_listing.cpp (what a folder holds: UIDs, flags, counts, \Recent),
// message_store_flags.cpp (flags and keywords), message_store_copy.cpp (COPY, MOVE, EXPUNGE and
// its log) and message_store_search.cpp (the full-text index and SEARCH).
#pragma once

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.hpp"
#include "store/mailbox/message_store.hpp"

namespace sealpost::store::mailbox {

struct StandardFolder {
  const char* name;
  SpecialUse use;
};
inline constexpr std::array<StandardFolder, 6> kStandardFolders{{
    {"INBOX", SpecialUse::kInbox},
    {"Sent", SpecialUse::kSent},
    {"Drafts", SpecialUse::kDrafts},
    {"Junk", SpecialUse::kJunk},
    {"Trash", SpecialUse::kTrash},
    {"Archive", SpecialUse::kArchive},
}};

inline std::string join(const std::vector<std::string>& words, char sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto at = s.find(sep);
    if (at != 0) out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

// IMAP keywords are case-insensitive ("$label1" is "$Label1"), as Dovecot treats them; the
// first spelling is kept.
inline bool has_keyword(const std::vector<std::string>& words, std::string_view k) {
  return std::any_of(words.begin(), words.end(),
                     [&](const std::string& w) { return iequals(w, k); });
}

// The keywords as stored: the first 64, each once, space-separated; StoreError when one is not
// a valid IMAP atom.
std::string keywords_text(const std::vector<std::string>& keywords);

// A piece of a message as stored (message_store_bodies.cpp): zstd-compressed when that is
// smaller, and back.
std::vector<unsigned char> pack(std::string_view piece);
std::string unpack(std::span<const unsigned char> stored);

}  // namespace sealpost::store::mailbox
