// The virus scan (issue 18 item 7): the message, in memory, streamed to ClamAV's daemon over its
// local socket with INSTREAM (clamd(8)): "zINSTREAM\0", then the message in chunks of at most
// 64 KiB, each preceded by its length (4 octets, network order), then a chunk of length 0; clamd
// answers one NUL-terminated line (filter/clamd_reply.hpp). The whole conversation has one
// deadline, the answer read is bounded, and any failure is a result, never an exception or a
// wait without end: a scan that cannot be done is kUnavailable, which the MX turns into a 451 by
// default ([filter] clamd_unavailable).
//
// Privacy: the message goes only to clamd's socket, on this machine (a unix socket, or TCP on a
// loopback address: the config accepts no other), and nothing of it is written anywhere by us.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/config.hpp"
#include "filter/clamd_reply.hpp"
#include "filter/message_scan.hpp"

namespace sealpost::filter {

struct ClamdSettings {
  // An absolute path to clamd's unix socket (its LocalSocket), or "IP:PORT" of its TCPSocket on
  // a loopback address. Empty: no scanning.
  std::string socket;
  // The whole scan: connecting, sending, clamd's scanning and its answer.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // What a scan that could not be done gives: a 451 (true), or the message accepted unscanned.
  bool tempfail_when_unavailable = true;
  // The message as received (true), or its decoded attachments (clamd_input()).
  bool whole_message = false;
};

// The settings [filter] describes (clamd, clamd_timeout, clamd_unavailable, clamd_scan).
ClamdSettings clamd_settings(const core::Filter& filter);

// What clamd is given for a message: its decoded attachments but images, as scan_message kept
// them (ScanLimits::keep_for_virus_scan), unless settings.whole_message, `scan` is null, or they
// are not all of them (MessageScan::virus_scan_complete): then the message as received. Empty
// when there is nothing to scan (no attachment). The views point into `raw` and `scan`.
std::vector<std::string_view> clamd_input(const ClamdSettings& settings, std::string_view raw,
                                          const MessageScan* scan);

// Scans a message (as received) with clamd. Both arguments must outlive the scan. The result is
// kUnavailable when settings.socket is empty, when clamd cannot be reached, does not answer
// within settings.timeout, or cannot scan the message (larger than its StreamMaxLength).
// Cancelling the coroutine ends the conversation; it cancels nothing else.
boost::asio::awaitable<ClamdResult> scan_with_clamd(const ClamdSettings& settings,
                                                    std::string_view message);

// Scans each of `files` in turn, one INSTREAM each, all within settings.timeout: kVirus at the
// first virus, kUnavailable at the first file not scanned, else kClean (also for no file).
boost::asio::awaitable<ClamdResult> scan_files_with_clamd(const ClamdSettings& settings,
                                                          std::vector<std::string_view> files);

}  // namespace sealpost::filter
