/// A semaphore that refuses to be released above its initial value (Python's
/// `threading.BoundedSemaphore`), which catches a release without a matching acquire.
public final class BoundedSemaphore: Semaphore, @unchecked Sendable {
    /// Creates a bounded semaphore with `value` permits, which is also its bound.
    /// - Parameter value: The initial and largest number of permits; must not be negative.
    public init(_ value: Int = 1) {
        super.init(value: value, bound: value)
    }
}
