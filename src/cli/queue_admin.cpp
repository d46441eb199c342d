// `sealpost queue`: the outbound queue as an operator sees it (Postfix's mailq/postqueue). The
// CLI holds the server key, so it can open what the queue sealed; a running server notices its
// changes (retry, drop) within a second.
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/server_runtime.hpp"
#include "core/clock.hpp"
#include "queue/queue.hpp"

namespace sealpost::cli {
namespace {

std::string iso_time(std::int64_t t) {
  if (t <= 0) return "-";
  const std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string_view state_name(store::RecipientState s) {
  switch (s) {
    case store::RecipientState::kPending:
      return "pending";
    case store::RecipientState::kDelivered:
      return "delivered";
    case store::RecipientState::kFailed:
      return "failed";
  }
  return "?";
}

std::int64_t require_entry(queue::Queue& q, const std::string& id) {
  const auto found = q.id_of(id);
  if (!found) throw std::runtime_error("no queue entry " + id + " (see: sealpost queue list)");
  return *found;
}

}  // namespace

int queue_list(const std::filesystem::path& path) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto entries = store->queue_list(1000);
  if (entries.empty()) {
    std::cout << "the queue is empty\n";
    return 0;
  }
  std::cout << fmt::format("{:<16}  {:<6}  {:<20}  {:>9}  {:>7} {:>9} {:>6}  {:<20}  {}\n", "ID",
                           "KIND", "QUEUED", "SIZE", "PENDING", "DELIVERED", "FAILED",
                           "NEXT ATTEMPT", "LAST");
  for (const auto& e : entries) {
    int pending = 0;
    int delivered = 0;
    int failed = 0;
    std::int64_t next = 0;
    std::string last;
    for (const auto& r : store->queue_recipients(e.id)) {
      switch (r.state) {
        case store::RecipientState::kPending:
          ++pending;
          if (next == 0 || r.next_attempt < next) next = r.next_attempt;
          break;
        case store::RecipientState::kDelivered:
          ++delivered;
          break;
        case store::RecipientState::kFailed:
          ++failed;
          break;
      }
      if (r.last_code != 0 && (last.empty() || r.state != store::RecipientState::kDelivered)) {
        last = std::to_string(r.last_code) +
               (r.last_enhanced.empty() ? "" : " " + r.last_enhanced) +
               (r.category.empty() ? "" : " " + r.category);
      }
    }
    std::cout << fmt::format("{:<16}  {:<6}  {:<20}  {:>9}  {:>7} {:>9} {:>6}  {:<20}  {}{}\n",
                             e.token, e.kind, iso_time(e.created), e.size, pending, delivered,
                             failed, pending ? iso_time(next) : "-", last.empty() ? "-" : last,
                             e.redacted ? " (redacted)" : "");
  }
  return 0;
}

int queue_show(const std::filesystem::path& path, const std::string& id) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  queue::Queue q(*store, server_key(config).bytes());
  const auto entry = q.load(require_entry(q, id));
  if (!entry) throw std::runtime_error("no queue entry " + id);
  const auto& r = entry->record;
  std::cout << "id: " << r.token << "\nkind: " << r.kind << "\nqueued: " << iso_time(r.created)
            << "\nsize: " << r.size
            << "\nowner: " << (entry->envelope.owner.empty() ? "-" : entry->envelope.owner)
            << "\nsender: <" << entry->envelope.sender << ">\n";
  if (r.retain_until != 0) {
    std::cout << (r.redacted ? "redacted: yes\n"
                             : "content kept until: " + iso_time(r.retain_until) + "\n");
  }
  for (const auto& rcpt : entry->recipients) {
    const auto& s = rcpt.record;
    std::cout << "recipient: <" << rcpt.address << "> " << state_name(s.state)
              << " attempts=" << s.attempts;
    if (s.state == store::RecipientState::kPending)
      std::cout << " next=" << iso_time(s.next_attempt);
    if (s.last_code != 0) {
      const auto nl = rcpt.detail.find('\n');
      const auto host = nl == std::string::npos ? std::string() : rcpt.detail.substr(0, nl);
      const auto text = nl == std::string::npos ? rcpt.detail : rcpt.detail.substr(nl + 1);
      std::cout << " last=" << s.last_code << (s.category.empty() ? "" : " (" + s.category + ")")
                << (host.empty() ? "" : " from " + host) << ": " << text;
    }
    std::cout << "\n";
  }
  // After redaction the content is the notice, never the message.
  std::cout << "\n" << entry->content;
  if (!entry->content.empty() && entry->content.back() != '\n') std::cout << "\n";
  return 0;
}

int queue_stats(const std::filesystem::path& path) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  // Prometheus text format, as the metrics endpoint will serve it: recipients by state and by
  // the bounce classifier's category of their last answer.
  std::cout << "# HELP sealpost_queue_recipients Queued recipients by state and category of the "
               "last answer.\n# TYPE sealpost_queue_recipients gauge\n";
  for (const auto& [key, count] : store->queue_counts()) {
    const auto colon = key.find(':');
    const auto state = key.substr(0, colon);
    const auto category = colon == std::string::npos ? std::string() : key.substr(colon + 1);
    std::cout << "sealpost_queue_recipients{state=\"" << state << "\",category=\""
              << (category.empty() ? "none" : category) << "\"} " << count << "\n";
  }
  return 0;
}

int queue_retry(const std::filesystem::path& path, const std::string& id, bool all) {
  if (all == !id.empty()) throw std::runtime_error("give an ID or --all");
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto now = core::unix_now();
  if (all) {
    std::cout << store->queue_retry_all(now) << " recipients are due now\n";
    return 0;
  }
  queue::Queue q(*store, server_key(config).bytes());
  store->queue_retry(require_entry(q, id), now);
  std::cout << "entry " << id << " is due now\n";
  return 0;
}

int queue_drop(const std::filesystem::path& path, const std::string& id) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  queue::Queue q(*store, server_key(config).bytes());
  store->queue_drop(require_entry(q, id));
  std::cout << "entry " << id << " dropped\n";
  return 0;
}

}  // namespace sealpost::cli
