// The umbrella module: `import Spindle` brings every Spindle library module.
@_exported import SpindleThreading
@_exported import SpindleQueue
@_exported import SpindleFutures
@_exported import SpindleSubprocess
@_exported import SpindleDaemon
@_exported import SpindleEnvoy
@_exported import SpindleSupervisor
@_exported import SpindleMultiprocessing
