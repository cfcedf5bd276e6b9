#include "steppool.h"
