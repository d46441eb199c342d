// One HTTPS request to another domain's server (an MTA-STS policy host, a TLS-RPT report
// endpoint): the host's addresses in turn, TLS verified against the host name (RFC 6125, no
// partial wildcards), HTTP/1.1 through Beast, no redirects followed, the answer bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

namespace sealpost::dns {
class Resolver;
}

namespace sealpost::net {

struct HttpsRequest {
  std::string host;
  std::uint16_t port = 443;
  std::string method = "GET";  // "GET" or "POST"
  std::string target = "/";
  std::string content_type;  // POST
  std::string body;          // POST
  std::size_t max_answer = 64 * 1024;
  std::chrono::seconds timeout{30};  // per address tried
};

struct HttpsAnswer {
  int status = 0;  // 0: no HTTP answer at all (see error)
  std::string body;
  std::string error;  // why there was no answer; never names the host (logs carry it)
};

// `tls`: a verifying context (net::make_verifying_client_tls).
boost::asio::awaitable<HttpsAnswer> https_request(boost::asio::any_io_executor executor,
                                                  dns::Resolver& resolver,
                                                  boost::asio::ssl::context& tls,
                                                  const HttpsRequest& request);

}  // namespace sealpost::net
