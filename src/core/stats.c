#include "core/stats.h"

struct stats stats;
