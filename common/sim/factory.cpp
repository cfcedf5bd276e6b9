#include "factory.h"
