#include "worldstate.h"
