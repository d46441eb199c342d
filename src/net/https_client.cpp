#include "net/https_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include "dns/resolver.hpp"
#include "net/tls.hpp"

namespace sealpost::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

asio::awaitable<HttpsAnswer> https_request(asio::any_io_executor executor, dns::Resolver& resolver,
                                           asio::ssl::context& tls, const HttpsRequest& request) {
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  HttpsAnswer answer;
  auto addrs = co_await resolver.addresses(request.host);
  if (addrs.status != dns::Status::kOk || addrs.records.empty()) {
    answer.error = "no address for the host";
    co_return answer;
  }
  for (const auto& address : addrs.records) {
    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    SSL* ssl = stream.native_handle();
    SSL_set_tlsext_host_name(ssl, request.host.c_str());
    if (!net::require_host_name(ssl, request.host)) {
      answer.error = "not a host name";
      co_return answer;
    }
    beast::get_lowest_layer(stream).expires_after(request.timeout);
    auto [cec] = co_await beast::get_lowest_layer(stream).async_connect(
        asio::ip::tcp::endpoint(address, request.port), kNoThrow);
    if (cec) {
      answer.error = "cannot connect";
      continue;
    }
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
    if (hec) {
      answer.error = "TLS failed (is the certificate valid for the host's name?)";
      continue;
    }
    http::request<http::string_body> req{
        request.method == "POST" ? http::verb::post : http::verb::get, request.target, 11};
    req.set(http::field::host, request.host);
    req.set(http::field::user_agent, "Sealpost");
    if (request.method == "POST") {
      req.set(http::field::content_type, request.content_type);
      req.body() = request.body;
      req.prepare_payload();
    }
    auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
    if (wec) {
      answer.error = "the connection closed while sending";
      continue;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(request.max_answer);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (rec) {
      answer.error =
          rec == http::error::body_limit ? "the answer is too large" : "no valid HTTP answer";
      continue;
    }
    answer.status = parser.get().result_int();
    answer.body = std::move(parser.get().body());
    answer.error.clear();
    co_return answer;
  }
  co_return answer;
}

}  // namespace sealpost::net
