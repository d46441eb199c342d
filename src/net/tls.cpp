#include "net/tls.hpp"

#include <cstdio>
#include <stdexcept>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace sealpost::net {

namespace ssl = boost::asio::ssl;

namespace {

void restrict_versions(ssl::context& ctx) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Forward-secret AEAD suites only for TLS 1.2 (TLS 1.3's defaults are all fine).
  SSL_CTX_set_cipher_list(native,
                          "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!MD5:!DSS");
}

}  // namespace

std::unique_ptr<ssl::context> make_server_tls(const std::filesystem::path& cert,
                                              const std::filesystem::path& key) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  restrict_versions(*ctx);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1) {
    throw std::runtime_error(cert.string() + ": cannot load the TLS certificate chain");
  }
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error(key.string() + ": cannot load the TLS private key");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error(key.string() + ": the TLS key does not match " + cert.string());
  }
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  // OpenSSL decrypts each record in place in its read buffer and leaves the plaintext there
  // until the next record overwrites it: a client's AUTH or LOGIN line (a password) would stay
  // in memory after the session has wiped its own copies. Cleansed once copied out.
  SSL_CTX_set_options(native, SSL_OP_CLEANSE_PLAINTEXT);
  return ctx;
}

std::unique_ptr<ssl::context> make_client_tls() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  restrict_versions(*ctx);
  ctx->set_verify_mode(ssl::verify_none);
  return ctx;
}

std::unique_ptr<ssl::context> make_verifying_client_tls(
    const std::optional<std::filesystem::path>& extra_ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  restrict_versions(*ctx);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_default_verify_paths(native);
  if (extra_ca_file &&
      SSL_CTX_load_verify_locations(native, extra_ca_file->c_str(), nullptr) != 1) {
    throw std::runtime_error(extra_ca_file->string() + ": cannot load the CA certificates");
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

bool require_host_name(SSL* ssl, const std::string& host) {
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, host.c_str()) == 1;
}

std::unique_ptr<ssl::context> make_dane_client_tls() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  restrict_versions(*ctx);
  if (SSL_CTX_dane_enable(ctx->native_handle()) <= 0) {
    throw std::runtime_error("OpenSSL cannot enable DANE");
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

bool require_dane(SSL* ssl, const std::string& mx_host, const std::string& next_hop_domain,
                  const std::vector<dns::TlsaRecord>& records) {
  if (SSL_dane_enable(ssl, mx_host.c_str()) <= 0) return false;
  if (!next_hop_domain.empty() && next_hop_domain != mx_host) {
    SSL_add1_host(ssl, next_hop_domain.c_str());
  }
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  int added = 0;
  for (const auto& r : records) {
    if (r.usage != 2 && r.usage != 3) continue;
    if (SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching_type, r.data.data(), r.data.size()) >
        0) {
      ++added;
    }
  }
  return added > 0;
}

std::string_view verify_failure_kind(long verify_result) {
  switch (verify_result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return "certificate-host-mismatch";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate-expired";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return "certificate-not-trusted";
    case X509_V_ERR_DANE_NO_MATCH:
      return "tlsa-invalid";
    default:
      return "validation-failure";
  }
}

void write_self_signed(const std::string& hostname, const std::filesystem::path& cert,
                       const std::filesystem::path& key) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x509 = X509_new();
  if (!pkey || !x509) throw std::runtime_error("cannot generate a key pair");
  X509_set_version(x509, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x509), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x509), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x509), 365L * 24 * 3600);
  X509_set_pubkey(x509, pkey);
  X509_NAME* name = X509_get_subject_name(x509);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
  X509_set_issuer_name(x509, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x509, x509, nullptr, nullptr, 0);
  const std::string san = "DNS:" + hostname;
  if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(x509, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x509, pkey, EVP_sha256());

  const mode_t old = ::umask(077);
  FILE* kf = std::fopen(key.c_str(), "w");
  FILE* cf = kf ? std::fopen(cert.c_str(), "w") : nullptr;
  ::umask(old);
  const bool ok = kf && cf &&
                  PEM_write_PrivateKey(kf, pkey, nullptr, nullptr, 0, nullptr, nullptr) &&
                  PEM_write_X509(cf, x509);
  if (kf) (void)std::fclose(kf);
  if (cf) (void)std::fclose(cf);
  X509_free(x509);
  EVP_PKEY_free(pkey);
  if (!ok) throw std::runtime_error("cannot write " + cert.string() + " / " + key.string());
}

}  // namespace sealpost::net
