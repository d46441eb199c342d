#include "delivery/local_routes.hpp"

#include "mime/content.hpp"
#include "smtp/client/relay_client.hpp"
#include "smtp/protocol/address.hpp"

namespace sealpost::delivery {

boost::asio::awaitable<smtp::protocol::ServerReply> LocalRoutes::deliver(
    const queue::Envelope& envelope, const std::string& recipient, std::string_view content,
    std::int64_t now) {
  using smtp::client::local_reply;
  const auto path = smtp::protocol::parse_path("<" + recipient + ">", /*allow_utf8=*/true);
  if (!path || path.value().null) co_return local_reply(553, "5.1.3", "Bad recipient address");
  const routing::Route route = router_.route(path.value().mailbox, false);
  if (route.kind == routing::Route::Kind::kRejected) {
    co_return local_reply(route.rejection.code, route.rejection.enhanced, route.rejection.text);
  }
  smtp::DeliveryRequest request;
  request.sender = envelope.sender;
  request.destinations = route.destinations;
  request.mailboxes = route.mailboxes;
  request.smtputf8 = envelope.smtputf8;
  request.eightbit = envelope.eightbit;
  // Our trace field (RFC 5321 section 4.4), without any client address: the message came from
  // our own queue.
  const std::string trace = "Received: by " + hostname_ + " (Sealpost) with LOCAL;\r\n\t" +
                            mime::format_rfc5322_date(now) + "\r\n";
  request.trace = trace;
  request.received = now;
  request.content = content;
  const auto report = co_await agent_.deliver(request);
  co_return local_reply(report.reply.code, report.reply.enhanced, report.reply.text);
}

}  // namespace sealpost::delivery
