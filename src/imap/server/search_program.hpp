// SEARCH criteria (RFC 9051 section 6.4.4) evaluated over the selected folder, and the pieces of
// RFC 5256 that SORT and THREAD share. Runs on the worker pool, with the mailbox's store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imap/protocol/command.hpp"
#include "store/mailbox/message_store.hpp"

namespace sealpost::imap::server {

struct Match {
  std::uint32_t seq = 0;
  store::mailbox::MessageInfo info;
};

// The messages of the session's view that meet `criteria`, in sequence order: `view` holds the
// UIDs by sequence number, `saved` the SEARCHRES result ("$"), `recent` the \Recent UIDs.
// `uses_modseq` tells whether the criteria named MODSEQ (CONDSTORE). `need_size`: the caller
// reads the messages' sizes (SORT SIZE).
std::vector<Match> run_search(store::mailbox::MessageStore& s, std::int64_t folder,
                              const std::vector<std::uint32_t>& view,
                              const std::vector<std::uint32_t>& saved,
                              const std::vector<std::uint32_t>& recent,
                              const protocol::SearchKey& criteria, bool& uses_modseq,
                              bool need_size = false);

// The charsets SEARCH, SORT and THREAD accept: none given, US-ASCII or UTF-8.
bool charset_ok(const std::optional<std::string>& charset);

// RFC 5256 section 2.1: the subject without "Re:", "Fwd:", "[list]" prefixes, "(fwd)"
// trailers and "[Fwd: ...]" wrappers, lowercased for comparison. `reply` (when given) tells
// whether a reply or forward marker was removed (section 2.1), which THREAD=REFERENCES needs.
std::string base_subject(std::string_view raw, bool* reply = nullptr);

}  // namespace sealpost::imap::server
