#include "cli/app.hpp"

int main(int argc, char** argv) {
  return mcpgw::cli::run(argc, argv);
}
