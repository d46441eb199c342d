// What a session's login into its sealed mailbox may choose (IMAP, POP3, submission). The login
// itself is access::login: the credential unwraps the key (Argon2id) on the password-hashing pool,
// the database opens and the spool moves in on the worker pool.
#pragma once

#include "crypto/mailbox_keys.hpp"

namespace sealpost::store::mailbox {

struct LoginOptions {
  crypto::KdfCost cost{};  // only for unknown accounts; tests pass the minimum
};

}  // namespace sealpost::store::mailbox
