/// Something `Multiprocessing.bootstrap(registering:)` can register: a `WorkerFunction`, or its
/// type-erased form `AnyWorkerFunction`.
///
/// Only Spindle's own types can conform usefully, since `AnyWorkerFunction` has no public
/// initializer: what a child runs is always a registered `WorkerFunction` body.
public protocol WorkerEntryPoint: Sendable {
    /// The stable name the function is registered and called by.
    var name: String { get }
    /// The function with its types erased, as the registry keeps it.
    var anyWorkerFunction: AnyWorkerFunction { get }
}
