import Testing

/// Every SpindleDaemon test, one at a time: they fork, start daemons, and some look at state that
/// is the whole process's (its umask, its threads).
@Suite("SpindleDaemon", .serialized, .timeLimit(.minutes(1)))
enum DaemonTests {}
