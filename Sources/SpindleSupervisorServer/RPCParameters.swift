import SpindleSupervisor

/// The parameters of one call, read with the leniency of a Python method: counts are checked
/// against the method's arity, numbers may come as text, and flags follow Python's truth rules.
/// A parameter of a type the method cannot use is INCORRECT_PARAMETERS.
struct RPCParameters {
    let values: [XMLRPCValue]

    /// Requires between `required` and `required + optional` parameters.
    func arity(_ required: Int, optional: Int = 0) throws(SupervisorFault) {
        guard values.count >= required, values.count <= required + optional else { throw .incorrectParameters() }
    }

    /// Text: a string, base64 bytes, or a number (written as Python's `str` would).
    func string(_ i: Int) throws(SupervisorFault) -> String {
        switch values[i] {
        case .string(let s): return s
        case .base64(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .int(let n): return String(n)
        default: throw .incorrectParameters()
        }
    }

    /// A process or group name: text only.
    func name(_ i: Int) throws(SupervisorFault) -> String {
        switch values[i] {
        case .string(let s): return s
        case .base64(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: throw .incorrectParameters()
        }
    }

    /// Python's `int(value)`: an integer, a boolean, a truncated double, or digits in text.
    func int(_ i: Int) throws(SupervisorFault) -> Int {
        switch values[i] {
        case .int(let n): return n
        case .bool(let b): return b ? 1 : 0
        case .double(let d) where d.isFinite && abs(d) < 9.2e18: return Int(d)
        case .string(let s):
            guard let n = Int(s.trimmingASCIIWhitespace()) else { throw .incorrectParameters() }
            return n
        default: throw .incorrectParameters()
        }
    }

    /// Python's truth value of the parameter, or `fallback` when it was not given.
    func flag(_ i: Int, default fallback: Bool) -> Bool {
        guard i < values.count else { return fallback }
        switch values[i] {
        case .int(let n): return n != 0
        case .bool(let b): return b
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .structure(let m): return !m.isEmpty
        case .base64(let b): return !b.isEmpty
        case .dateTime: return true
        case .nil: return false
        }
    }
}
