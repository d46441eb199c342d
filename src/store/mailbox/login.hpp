// A session's login into its sealed mailbox (IMAP, POP3): the credential unwraps the key
// (Argon2id), the database opens and the spool moves in — all on the blocking worker pool, so an
// I/O thread only waits. A wrong credential and an unknown account cost the same work and give
// the same answer (null). The credential's bytes are wiped once used.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "store/mailbox/local_delivery.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::store::mailbox {

struct LoginOptions {
  crypto::KdfCost cost{};  // only for unknown accounts; tests pass the minimum
};

boost::asio::awaitable<std::shared_ptr<OpenMailbox>> login(
    MetadataStore& metadata, MailboxDirectory& directory, boost::asio::any_io_executor blocking,
    std::string address, std::string credential, LoginOptions options = {});

}  // namespace sealpost::store::mailbox
