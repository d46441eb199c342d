// What IMAP and POP3 sessions share: the config, the mailbox directory and the worker pool that
// unlocks and reads sealed mailboxes, TLS, and the login protections (throttle, sessions per
// user). Built once by `sealpost serve`; the parts that change are internally synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "access/kdf_pool.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "net/login_throttle.hpp"
#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/login.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::access {

// Counts the logged-in sessions of each mailbox, to bound them ([access] sessions_per_user).
class SessionCounter {
 public:
  class Ticket {
   public:
    Ticket() = default;
    Ticket(SessionCounter* owner, std::string address)
        : owner_(owner), address_(std::move(address)) {}
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), address_(std::move(o.address_)) {
      o.owner_ = nullptr;
    }
    Ticket& operator=(Ticket&& o) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }
    explicit operator bool() const noexcept { return owner_ != nullptr; }

   private:
    void release() noexcept;
    SessionCounter* owner_ = nullptr;
    std::string address_;
  };

  explicit SessionCounter(std::uint32_t per_user) : per_user_(per_user) {}
  // An empty ticket when the address has its maximum already.
  Ticket acquire(const std::string& address);
  [[nodiscard]] std::uint32_t count(const std::string& address);

 private:
  std::uint32_t per_user_;
  std::mutex mutex_;
  std::map<std::string, std::uint32_t> counts_;
};

struct AccessContext {
  const core::Config& config;
  store::MetadataStore& metadata;
  store::mailbox::MailboxDirectory& mailboxes;
  boost::asio::any_io_executor blocking;  // SQLite, zstd, Argon2id: never on the I/O threads
  boost::asio::ssl::context* tls;         // null: no STARTTLS/STLS (loopback-only plaintext)
  net::LoginThrottle& throttle;
  SessionCounter& sessions;
  const core::ClientHasher& client_hasher;
  KdfPool& kdf;  // Argon2id: never on `blocking`
  store::mailbox::LoginOptions login_options{};
};

}  // namespace sealpost::access
