// `sealpost serve`: builds every part from the typed config, binds the listeners, and runs the
// io_context on one thread per core until SIGINT or SIGTERM.
#pragma once

#include <functional>

#include <boost/asio/io_context.hpp>

#include "core/config.hpp"
#include "dns/resolver.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::cli {

// `on_ready` runs on the io_context once listeners are bound (the demo starts its sink there).
int run_server(const core::Config& config,
               const std::function<void(boost::asio::io_context&)>& on_ready = {});

// Creates the data directory (mode 0700) when missing; throws naming it when unusable.
void prepare_data_dir(const core::Config& config);

// The metadata store in the data directory (which it creates when missing).
std::unique_ptr<store::MetadataStore> open_metadata_store(const core::Config& config);

// The resolver as [dns] configures it. Interactive commands wait at most 5 s per query.
dns::Resolver::Options resolver_options(const core::Config& config);
dns::Resolver::Options interactive_resolver_options(const core::Config& config);

}  // namespace sealpost::cli
