#include "store/mailbox/login.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sodium.h>

namespace sealpost::store::mailbox {

namespace {

// Runs on the worker pool.
boost::asio::awaitable<std::shared_ptr<OpenMailbox>> login_blocking(MetadataStore& metadata,
                                                                    MailboxDirectory& directory,
                                                                    std::string address,
                                                                    std::string credential,
                                                                    LoginOptions options) {
  std::shared_ptr<OpenMailbox> open;
  {
    auto unlocked = unlock(metadata, address, credential, options.cost);
    sodium_memzero(credential.data(), credential.size());
    if (unlocked) open = directory.open(*unlocked);
  }  // the unwrapped keys are wiped here; the open database keeps only SQLite's copy
  co_return open;
}

}  // namespace

boost::asio::awaitable<std::shared_ptr<OpenMailbox>> login(
    MetadataStore& metadata, MailboxDirectory& directory, boost::asio::any_io_executor blocking,
    std::string address, std::string credential, LoginOptions options) {
  co_return co_await boost::asio::co_spawn(
      blocking,
      login_blocking(metadata, directory, std::move(address), std::move(credential), options),
      boost::asio::use_awaitable);
}

}  // namespace sealpost::store::mailbox
