/// Several arguments of a worker function, as one Codable value (Python passes `*args`).
///
/// A `WorkerFunction<ArgumentTuple<Int, Int>, Int>` is made from a closure of two parameters and
/// is what `Pool.starmap` takes:
///
/// ```swift
/// let add = WorkerFunction<ArgumentTuple<Int, Int>, Int>("add") { a, b in a + b }
/// try pool.starmap(add, [(1, 2), (3, 4)])   // [3, 7]
/// ```
public struct ArgumentTuple<each Element: Codable & Sendable>: Codable, Sendable {
    /// The arguments.
    public let elements: (repeat each Element)

    /// Bundles arguments.
    /// - Parameter elements: The arguments, in order.
    public init(_ elements: repeat each Element) {
        self.elements = (repeat each elements)
    }

    /// Decodes the arguments from an unkeyed container, in order.
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when an argument does not decode.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        elements = (repeat try container.decode((each Element).self))
    }

    /// Encodes the arguments into an unkeyed container, in order.
    /// - Parameter encoder: The encoder.
    /// - Throws: `EncodingError` when an argument does not encode.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        repeat try container.encode(each elements)
    }
}
