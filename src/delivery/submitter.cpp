#include "delivery/submitter.hpp"

#include <limits>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/domain.hpp"
#include "core/strings.hpp"
#include "crypto/random.hpp"
#include "mime/address_list.hpp"
#include "mime/content.hpp"

namespace sealpost::delivery {

namespace asio = boost::asio;
using smtp::protocol::make_reply;
using smtp::protocol::Reply;

namespace {

std::string unquote_local(std::string local) {
  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
      if (local[i] == '\\' && i + 2 < local.size()) ++i;
      out += local[i];
    }
    return out;
  }
  return local;
}

}  // namespace

void SendingRates::roll(Window& w, std::int64_t now) {
  if (w.hour != now / 3600) {
    w.hour = now / 3600;
    w.in_hour = 0;
  }
  if (w.day != now / 86400) {
    w.day = now / 86400;
    w.in_day = 0;
  }
}

bool SendingRates::allows(const std::string& key, const Limits& limits, std::int64_t now) {
  const std::lock_guard lock(mutex_);
  const auto it = windows_.find(key);
  if (it == windows_.end()) return limits.per_hour > 0 && limits.per_day > 0;
  roll(it->second, now);
  return it->second.in_hour < limits.per_hour && it->second.in_day < limits.per_day;
}

void SendingRates::count(const std::string& key, std::int64_t now) {
  const std::lock_guard lock(mutex_);
  // A day's window of a key that sent nothing today is forgotten: memory stays bounded by the
  // keys active today.
  if (windows_.size() > 100'000) {
    std::erase_if(windows_, [now](const auto& kv) { return kv.second.day != now / 86400; });
  }
  auto& w = windows_[key];
  roll(w, now);
  ++w.in_hour;
  ++w.in_day;
}

std::string missing_submission_fields(const mime::Header& header, std::string_view domain,
                                      std::int64_t now) {
  bool has_date = false;
  bool has_id = false;
  for (const auto& f : header.fields) {
    has_date = has_date || iequals(f.name, "Date");
    has_id = has_id || iequals(f.name, "Message-ID");
  }
  std::string out;
  if (!has_date) out += "Date: " + mime::format_rfc5322_date(now) + "\r\n";
  if (!has_id)
    out += "Message-ID: <" + crypto::random_hex(16) + "@" + std::string(domain) + ">\r\n";
  return out;
}

Submitter::Submitter(const core::Config& config, const routing::Router& router, queue::Queue& queue,
                     const auth::dkim::KeyringHolder& keyring,
                     store::mailbox::MailboxDirectory& mailboxes, asio::any_io_executor blocking,
                     std::function<void()> queued, Clock clock)
    : config_(config),
      router_(router),
      committer_(queue, blocking),
      keyring_(keyring),
      mailboxes_(mailboxes),
      sent_copies_(asio::make_strand(blocking)),
      queued_(std::move(queued)),
      clock_(std::move(clock)) {}

std::optional<Reply> Submitter::check_sender(const std::string& owner,
                                             std::string_view sender) const {
  if (sender.empty()) {
    return make_reply(550, "5.7.1", "The null sender is not accepted for submission");
  }
  if (!router_.may_send_as(owner, sender)) {
    return make_reply(550, "5.7.1", "Sender address is not one of the authenticated user's");
  }
  return std::nullopt;
}

std::optional<Reply> Submitter::check_rate(const std::string& owner) {
  const auto now = clock_();
  const auto& s = config_.submission;
  if (!rates_.allows("user:" + owner, {s.messages_per_user_hour, s.messages_per_user_day}, now)) {
    return make_reply(451, "4.7.1",
                      "Sending limit reached for this account (" +
                          std::to_string(s.messages_per_user_hour) + " per hour, " +
                          std::to_string(s.messages_per_user_day) + " per day), try again later");
  }
  const auto domain = queue::domain_of(owner);
  if (!rates_.allows("domain:" + domain, {s.messages_per_domain_hour, s.messages_per_domain_day},
                     now)) {
    return make_reply(451, "4.7.1",
                      "Sending limit reached for this domain (" +
                          std::to_string(s.messages_per_domain_hour) + " per hour, " +
                          std::to_string(s.messages_per_domain_day) + " per day), try again later");
  }
  return std::nullopt;
}

std::optional<Reply> check_submitted_content(std::string_view content) {
  std::size_t line_start = 0;
  while (line_start < content.size()) {
    auto eol = content.find('\n', line_start);
    if (eol == std::string_view::npos) eol = content.size();
    std::size_t length = eol - line_start;
    if (length > 0 && eol < content.size() && content[eol - 1] == '\r') --length;
    if (length > kMaxSubmittedLine) {
      // RFC 5322 section 2.1.1 / RFC 5321 section 4.5.3.1.6: the next hop would refuse it and
      // the user would learn of it only from a bounce, hours later.
      return make_reply(554, "5.6.0",
                        "Message has a line longer than 998 octets; send it with a transfer "
                        "encoding such as quoted-printable or base64");
    }
    line_start = eol + 1;
  }
  return std::nullopt;
}

std::optional<Reply> Submitter::check_identity_fields(const mime::Header& header,
                                                      const std::string& owner) const {
  // Every field that names who wrote or sent the message (RFC 5322 sections 3.6.2 and 3.6.6),
  // each address in it read strictly: an address the reader would skip is one nobody checked.
  struct Rule {
    std::string_view name;
    std::size_t max;         // mailboxes in one field
    std::size_t min_fields;  // fields of that name in the header
    std::size_t max_fields;
  };
  constexpr auto kAny = std::numeric_limits<std::size_t>::max();  // one per resent block
  static constexpr Rule kRules[] = {
      {"From", kMaxAuthors, 1, 1},
      {"Sender", 1, 0, 1},
      {"Resent-From", kMaxAuthors, 0, kAny},
      {"Resent-Sender", 1, 0, kAny},
  };
  for (const Rule& rule : kRules) {
    std::size_t fields = 0;
    for (const auto& f : header.fields) {
      if (!iequals(f.name, rule.name)) continue;
      ++fields;
      const auto list = mime::parse_mailbox_list(f.value, rule.max);
      const std::string name(rule.name);
      if (!list) {
        switch (list.error()) {
          case mime::AddressListError::kTooMany:
            return make_reply(554, "5.6.0",
                              rule.max == 1 ? "The " + name + ": header field must hold one address"
                                            : "The " + name + ": header field has more than " +
                                                  std::to_string(rule.max) + " addresses");
          case mime::AddressListError::kEmpty:
            return make_reply(554, "5.6.0", "The " + name + ": header field has no address");
          case mime::AddressListError::kUnreadable:
            return make_reply(554, "5.6.0",
                              "The " + name + ": header field cannot be read as addresses");
        }
      }
      for (const auto& a : list.value()) {
        if (!router_.may_send_as(owner, unquote_local(a.local) + "@" + a.domain)) {
          return make_reply(550, "5.7.1",
                            name + ": address is not one of the authenticated user's");
        }
      }
    }
    if (fields < rule.min_fields || fields > rule.max_fields) {
      return make_reply(554, "5.6.0",
                        std::string("The message must have ") +
                            (rule.min_fields == 1 ? "exactly" : "at most") + " one " +
                            std::string(rule.name) + ": header field");
    }
  }
  return std::nullopt;
}

std::string without_blind_copies(std::string_view content, const mime::Header& header) {
  std::string out;
  out.reserve(content.size());
  std::size_t from = 0;
  for (const auto& f : header.fields) {
    if (!iequals(f.name, "Bcc") && !iequals(f.name, "Resent-Bcc")) continue;
    const auto at = static_cast<std::size_t>(f.raw.data() - content.data());
    out.append(content.substr(from, at - from));
    from = at + f.raw.size();
  }
  out.append(content.substr(from));
  return out;
}

asio::awaitable<Reply> Submitter::submit(const smtp::server::SubmissionRequest& request) {
  if (auto refusal = check_submitted_content(request.content)) co_return *refusal;
  const auto header = mime::split_header(request.content);
  if (!header) co_return make_reply(554, "5.6.0", "The message header cannot be read");
  if (auto refusal = check_identity_fields(*header, std::string(request.owner))) {
    co_return *refusal;
  }
  std::string_view from_value;
  for (const auto& f : header->fields) {
    if (iequals(f.name, "From")) from_value = f.value;
  }
  const auto authors = mime::parse_mailbox_list(from_value, kMaxAuthors).value();
  const auto from_domain =
      core::to_a_label(authors.front().domain).value_or(authors.front().domain);

  const auto now = clock_();
  // Our trace field (RFC 5321 section 4.4, RFC 3848 ESMTPSA) names no client: neither its
  // address nor its HELO name (often the user's machine name) leaves this server.
  std::string message = "Received: by " + config_.hostname + " (Sealpost) with ESMTPSA;\r\n\t" +
                        mime::format_rfc5322_date(now) + "\r\n";
  message += missing_submission_fields(*header, from_domain, now);
  // Bcc: is for the sender's eyes (RFC 5322 section 3.6.3): removed before signing and queueing,
  // as Postfix's cleanup does, so no recipient learns who else got the message. The Sent copy
  // keeps it.
  const std::size_t trace_size = message.size();
  message += without_blind_copies(request.content, *header);

  // DKIM: every key the From: domain signs with now (RFC 6376 section 3.5; RFC 8463).
  const std::string signature =
      keyring_.get()->sign(message, from_domain, static_cast<std::uint64_t>(now));
  message.insert(0, signature);
  std::string sent_copy;
  if (request.mailbox) {
    sent_copy = signature;
    sent_copy.append(message, signature.size(), trace_size);
    sent_copy += request.content;
  }

  queue::Envelope envelope;
  envelope.owner = std::string(request.owner);
  envelope.sender = std::string(request.sender);
  envelope.recipients = request.recipients;
  envelope.smtputf8 = request.smtputf8;
  envelope.eightbit = request.eightbit;
  queue::Queue::Added added;
  try {
    added = co_await committer_.add(envelope, message, "mail", now);
  } catch (const std::exception& e) {
    spdlog::error("submission not queued: {}", e.what());
    co_return make_reply(451, "4.3.0", "Could not queue the message, try again later");
  }
  rates_.count("user:" + std::string(request.owner), now);
  rates_.count("domain:" + queue::domain_of(request.owner), now);
  if (queued_) queued_();

  // The copy in Sent (the session holds the mailbox open since AUTH), made after the answer: it
  // is a convenience, not the message, so the client does not wait for a second fsync. A full
  // mailbox or a failing copy does not undo the submission.
  if (request.mailbox) {
    asio::post(sent_copies_, [mailbox = request.mailbox, copy = std::move(sent_copy), now,
                              facts_of = mailboxes_.facts()] {
      try {
        const auto facts = facts_of ? facts_of(copy) : std::nullopt;
        mailbox->with([&](store::mailbox::MessageStore& store) {
          store::mailbox::NewMessage m;
          m.raw = copy;
          m.internal_date = now;
          m.flags = store::mailbox::kSeen;
          m.facts = facts ? &*facts : nullptr;
          // The message is durable in the queue: the copy need not cost a second fsync.
          return store.append(store.special_folder(store::mailbox::SpecialUse::kSent).id, m,
                              store::mailbox::MessageStore::Quota::kEnforce,
                              store::mailbox::MessageStore::Sync::kDeferred);
        });
        mailbox->changed();
      } catch (const std::exception& e) {
        spdlog::warn("submission sent copy not stored: {}", e.what());
      }
    });
  }
  co_return make_reply(250, "2.0.0", "Queued as " + added.token);
}

}  // namespace sealpost::delivery
