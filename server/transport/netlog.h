#pragma once

#include <QLoggingCategory>

/// The `hex.net` category shared by the server's transports; defined in
/// websockettransport.cpp.
Q_DECLARE_LOGGING_CATEGORY(lcNet)
