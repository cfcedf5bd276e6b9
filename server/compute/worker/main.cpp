// hexsphere-worker: the compute process hexsphere-server starts to step its part of
// the world in shared memory. This skeleton only answers --help and --version; the
// shared-memory protocol comes with the compute-workers issue.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hexsphere-worker"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HEX_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere compute worker. hexsphere-server starts it; it is not run by hand."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("segment"),
                      QCoreApplication::translate("main", "Shared-memory segment to attach to."),
                      QCoreApplication::translate("main", "name")});
    parser.process(app);

    QTextStream(stderr) << "hexsphere-worker: "
                        << QCoreApplication::translate(
                               "main", "workers are started by hexsphere-server; this build "
                                       "has no shared-memory compute yet.")
                        << '\n';
    return 1;
}
