// Interfaces only; this file gives the library a translation unit that checks the header alone.
#include "gateway/server/service.hpp"
