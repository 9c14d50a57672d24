import Spindle

/// concurrent.futures: a thread pool's map keeps the inputs' order, as_completed yields futures as
/// they finish, and an error travels through the future.
enum ConcurrentDemo {
    struct NotAPrime: Error, CustomStringConvertible {
        let number: Int
        var description: String { "\(number) is not a prime" }
    }

    static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        var d = 2
        while d * d <= n {
            if n % d == 0 { return false }
            d += 1
        }
        return true
    }

    static func run() throws -> Int32 {
        let numbers = [112_272_535_095_293, 112_582_705_942_171, 112_272_535_095_293, 115_280_095_190_773,
                       115_797_848_077_099, 1_099_726_899_285_419]
        let pool = ThreadPoolExecutor(maxWorkers: 4, threadNamePrefix: "prime")
        try pool.scoped { pool in
            for (number, prime) in zip(numbers, try pool.map(numbers, { isPrime($0) }).results()) {
                Console.line("\(number) is prime: \(prime)")
            }
            let futures = try [7, 8, 9].map { n in
                try pool.submit { () throws -> Int in
                    guard isPrime(n) else { throw NotAPrime(number: n) }
                    return n
                }
            }
            var outcomes: [String] = []
            for future in futures { outcomes.append(outcome(future)) }
            Console.line("submitted 7, 8, 9: " + outcomes.joined(separator: "; "))
            let completed = Futures.asCompleted(futures, timeout: 30)
            var count = 0
            while try completed.next() != nil { count += 1 }
            Console.line("as_completed yielded \(count) futures")
        }
        return 0
    }

    static func outcome(_ future: Future<Int>) -> String {
        do {
            return "\(try future.result(timeout: 30))"
        } catch {
            return "error: \(error)"
        }
    }
}
