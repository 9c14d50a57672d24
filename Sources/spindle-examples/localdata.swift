import Spindle

/// Thread-local data (localdata.py): `x` is one list every thread shares, `mydata.x` has a copy
/// per thread.
///
/// Each child sets its own `mydata.x` to a random number and copies it into the shared `x`; the
/// main thread sees the new `x` while its own `mydata.x` stays 0.
enum LocalData {
    /// Python's `x = [0]`: a list shared by reference between threads.
    final class SharedList: @unchecked Sendable {
        private let lock = Lock()
        private var items: [Int]

        init(_ items: [Int]) { self.items = items }

        subscript(index: Int) -> Int {
            get { lock.withLock { items[index] } }
            set { lock.withLock { items[index] = newValue } }
        }

        /// The list as Python prints it, e.g. "[33]".
        var description: String { lock.withLock { "\(items)" } }
    }

    static func run() throws -> Int32 {
        let mydata = ThreadLocal { 0 }
        let x = SharedList([0])
        mydata.value = 0

        for round in 0..<3 {
            if round > 0 { Console.line() }
            let child = SpindleThread {
                let name = SpindleThread.current.name
                mydata.value = Int.random(in: 0...100)
                Console.line("Child(\(name)): x =  \(x.description) mydata.x =  \(mydata.value)")
                x[0] = mydata.value
                Console.line("Child(\(name)): x =  \(x.description) mydata.x =  \(mydata.value)")
            }
            try child.start()
            try child.join()
            Console.line("Main: x =  \(x.description) mydata.x =  \(mydata.value)")
        }
        return 0
    }
}
