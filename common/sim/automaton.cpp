#include "automaton.h"
