#include "inspect/inspect.hpp"
