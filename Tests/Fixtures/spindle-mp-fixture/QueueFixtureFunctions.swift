import Glibc
import SpindleMultiprocessing
import SpindleTestSupport

/// The fixture's worker functions for ProcessQueue and JoinableProcessQueue.
enum QueueFixtureFunctions {
    /// Puts `start ..< start + count` on the queue, then `sentinels` times -1.
    static let produce = WorkerFunction<ArgumentTuple<ProcessQueue<Int>, Int, Int, Int>, NoResult>("queue.produce") {
        queue, start, count, sentinels in
        for item in start..<(start + count) { try queue.put(item) }
        for _ in 0..<sentinels { try queue.put(-1) }
    }

    /// Gets items until it gets -1; returns [count, sum, sum of squares (wrapping), order
    /// violations]. Items are `producer * stride + i`: those of one producer must come in order.
    static let consume = WorkerFunction<ArgumentTuple<ProcessQueue<Int>, Int>, [Int]>("queue.consume") { queue, stride in
        var tally = ItemTally(stride: stride)
        while true {
            let item = try queue.get(timeout: 120)
            if item == -1 { break }
            tally.add(item)
        }
        return tally.summary
    }

    /// Gets items until -1, marking each done (the -1 too); returns how many it got before -1.
    static let finishTasks = WorkerFunction<JoinableProcessQueue<Int>, Int>("queue.finishTasks") { queue in
        var count = 0
        while true {
            let item = try queue.get(timeout: 120)
            usleep(100)
            try queue.taskDone()
            if item == -1 { return count }
            count += 1
        }
    }

    /// Gets strings from the first queue and puts them reversed on the second, until it gets "".
    static let reverseStrings = WorkerFunction<ArgumentTuple<ProcessQueue<String>, ProcessQueue<String>>, Int>(
        "queue.reverseStrings"
    ) { input, output in
        var count = 0
        while true {
            let text = try input.get(timeout: 120)
            if text.isEmpty { return count }
            try output.put(String(text.reversed()), timeout: 120)
            count += 1
        }
    }

    /// Gets Samples and puts each back with its id doubled, until one with a negative id.
    static let doubleSamples = WorkerFunction<ArgumentTuple<ProcessQueue<Sample>, ProcessQueue<Sample>>, Int>(
        "queue.doubleSamples"
    ) { input, output in
        var count = 0
        while true {
            var sample = try input.get(timeout: 120)
            if sample.id < 0 { return count }
            sample.id *= 2
            try output.put(sample)
            count += 1
        }
    }

    /// Takes the queue's mutex and dies of SIGKILL holding it.
    static let dieHoldingTheMutex = WorkerFunction<ProcessQueue<Int>, NoResult>("queue.dieHoldingTheMutex") { queue in
        queue.holdMutexForTesting()
        kill(getpid(), SIGKILL)
        while true { pause() }
    }

    static let all: [any WorkerEntryPoint] = [produce, consume, finishTasks, reverseStrings, doubleSamples, dieHoldingTheMutex]
}
