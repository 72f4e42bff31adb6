#include "gateway/lint/lint.hpp"

#include <ostream>

namespace mcpgw::lint {

// Placeholder while the lint driver is written; replaced in the same change.
int run(const Options&, std::ostream&, std::ostream& err) {
  err << "mcpgw lint: not built yet\n";
  return 2;
}

}  // namespace mcpgw::lint
