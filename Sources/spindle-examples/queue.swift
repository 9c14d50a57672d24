import Spindle

/// Queue: producers and consumers through a bounded `Queue`, with `taskDone()`/`join()` and a
/// shutdown that ends the consumers, plus the order of a LifoQueue and a PriorityQueue.
enum QueueDemo {
    static func run() throws -> Int32 {
        let jobs = Queue<Int>(maxsize: 4)
        let done = SimpleQueue<String>()
        let consumers = (1...2).map { number in
            SpindleThread(name: "consumer\(number)") {
                while let job = try? jobs.get() {
                    done.put("consumer\(number) squared \(job): \(job * job)")
                    try jobs.taskDone()
                }
            }
        }
        for consumer in consumers { try consumer.start() }
        for job in 1...8 { try jobs.put(job) }  // blocks while four wait
        jobs.join()  // every job marked done
        Console.line("all 8 jobs done; unfinished tasks: \(jobs.unfinishedTasks)")
        jobs.shutdown()  // the consumers' get() now throws ShutDown
        for consumer in consumers { try consumer.join() }
        var lines: [String] = []
        while let line = try? done.getNowait() { lines.append(line) }
        for line in lines.sorted(by: { $0.split(separator: " ")[2] < $1.split(separator: " ")[2] }) {
            Console.line(line)
        }

        let lifo = LifoQueue<String>(), priority = PriorityQueue<Int>()
        for word in ["first", "second", "third"] { try lifo.put(word) }
        for number in [5, 1, 4, 2, 3] { try priority.put(number) }
        Console.line("LifoQueue gives: \(try (0..<3).map { _ in try lifo.get() }.joined(separator: ", "))")
        Console.line("PriorityQueue gives: \(try (0..<5).map { _ in String(try priority.get()) }.joined(separator: ", "))")
        do {
            _ = try jobs.getNowait()
        } catch {
            Console.line("get after shutdown: \(error)")
        }
        return 0
    }
}
