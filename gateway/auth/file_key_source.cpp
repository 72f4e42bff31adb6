#include "gateway/auth/file_key_source.hpp"

#include <fstream>
#include <utility>

#include <spdlog/spdlog.h>

namespace mcpgw::auth {
namespace {

// At most kMaxJwksBytes + 1 bytes, so an oversize file is recognised without reading it all.
mcp::Expected<std::string, std::string> read_bounded(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return mcp::unexpected(std::string("cannot open the file"));
  }
  std::string text(kMaxJwksBytes + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) {
    return mcp::unexpected(std::string("cannot read the file"));
  }
  text.resize(static_cast<std::size_t>(file.gcount()));
  if (text.size() > kMaxJwksBytes) {
    return mcp::unexpected("the file is larger than " + std::to_string(kMaxJwksBytes) + " bytes");
  }
  return text;
}

}  // namespace

FileKeySource::FileKeySource(runtime::EventLoop& loop, std::string path,
                             std::chrono::milliseconds min_refresh, std::string issuer)
    : loop_(loop), path_(std::move(path)), min_refresh_(min_refresh), issuer_(std::move(issuer)) {}

void FileKeySource::start() {
  if (!last_read_) {
    reload();
  }
}

void FileKeySource::stop() {}

void FileKeySource::refresh(std::function<void()> done) {
  if (!last_read_ || loop_.now() - *last_read_ >= min_refresh_) {
    reload();
  }
  loop_.post(std::move(done));
}

bool FileKeySource::reload() {
  last_read_ = loop_.now();
  auto text = read_bounded(path_);
  if (!text) {
    spdlog::error("auth: JWKS file {} for issuer {}: {}; {}", path_, issuer_, text.error(),
                  keys_ ? "keeping the keys in use" : "no keys loaded");
    return false;
  }
  std::vector<std::string> skipped;
  auto keys = parse_jwks(*text, &skipped);
  for (const auto& note : skipped) {
    spdlog::warn("auth: JWKS file {}: {}", path_, note);
  }
  if (!keys) {
    spdlog::error("auth: JWKS file {} for issuer {}: {}; {}", path_, issuer_, keys.error(),
                  keys_ ? "keeping the keys in use" : "no keys loaded");
    return false;
  }
  keys_ = std::move(*keys);
  spdlog::info("auth: JWKS file {} for issuer {}: {} key(s)", path_, issuer_, keys_->size());
  return true;
}

std::shared_ptr<FileKeySource> make_file_key_source(runtime::EventLoop& loop,
                                                    const config::JwtSourceConfig& source) {
  return std::make_shared<FileKeySource>(loop, source.jwks_file, source.jwks_min_refresh,
                                         source.issuer);
}

}  // namespace mcpgw::auth
