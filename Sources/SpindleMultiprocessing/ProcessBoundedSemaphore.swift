/// A semaphore shared between processes (Python's `multiprocessing.BoundedSemaphore`) whose
/// value may not be released past its initial value: such a release is an error, as in Python.
///
/// Everything else is `ProcessSemaphore`'s: make one with `ProcessBoundedSemaphore(value)` and pass
/// it to workers, or place it in a caller's block; attaching checks that a bounded semaphore was
/// created there.
public final class ProcessBoundedSemaphore: ProcessSemaphore, @unchecked Sendable {
    override class var bounded: Bool { true }
    override class var typeName: String { "ProcessBoundedSemaphore" }
}
