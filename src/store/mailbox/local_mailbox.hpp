// What delivery needs to know of a sealed mailbox, carried in the routing snapshot so that the
// delivery path never reads the metadata store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sealpost::store::mailbox {

struct LocalMailbox {
  std::string address;  // normalised "local@domain"
  std::string file_id;  // data_dir/mailboxes/<file_id>.db and .spool
  std::vector<unsigned char> spool_public_key;
  std::uint64_t quota_bytes = 0;  // 0: none
};

}  // namespace sealpost::store::mailbox
