// What every SMTP session shares: the typed config, routing, delivery, TLS and admission
// control. Built once by `sealpost serve`; sessions only read it (the parts that change are
// internally synchronised).
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "auth/dkim/keyring.hpp"
#include "auth/inbound.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "filter/content_filter.hpp"
#include "filter/greylist.hpp"
#include "net/admission.hpp"
#include "routing/router.hpp"
#include "smtp/delivery_agent.hpp"
#include "smtp/server/submission.hpp"

namespace sealpost::smtp::server {

struct ServerContext {
  const core::Config& config;
  const routing::Router& router;
  DeliveryAgent& delivery;
  boost::asio::ssl::context* tls;  // null: STARTTLS not offered
  net::ConnectionLimiter& connections;
  net::ByteBudget& budget;
  const core::ClientHasher& client_hasher;
  const auth::Authenticator* authenticator = nullptr;  // null: no inbound authentication
  const auth::dkim::KeyringHolder* keyring = nullptr;  // null: forwarded mail is not ARC-sealed
  const filter::ContentFilter* filter = nullptr;       // null: no content filter (submission)
  filter::Greylist* greylist = nullptr;                // null: no greylisting
  // Non-null on the submission ports (587, 465): AUTH is required, recipients are anywhere, and
  // accepted mail goes to the submission agent instead of `delivery`.
  SubmissionContext* submission = nullptr;
};

}  // namespace sealpost::smtp::server
