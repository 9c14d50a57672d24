import SpindleFutures
import SpindleSystem

// Turning typed calls into the engine's untyped jobs, shared by Pool and ProcessPoolExecutor.

/// Splits `items` into chunks of `size` (the last may be shorter).
func chunked<T>(_ items: [T], size: Int) -> [[T]] {
    let size = Swift.max(1, size)
    return stride(from: 0, to: items.count, by: size).map { Array(items[$0..<Swift.min($0 + size, items.count)]) }
}

/// Makes the job that completes `future` with `transform` of the outcomes. `beforeResult` runs
/// first, on the same thread (Python runs a pool's callbacks before the result is ready).
func makeJob<Value>(
    _ request: TaskRequest, future: Future<Value>,
    beforeResult: (@Sendable (Swift.Result<Value, any Error>) -> Void)? = nil,
    transform: @escaping @Sendable (ChunkOutcome) throws -> Value
) -> PoolJob {
    @Sendable func finish(_ outcome: Swift.Result<Value, any Error>) {
        beforeResult?(outcome)
        switch outcome {
        case .success(let value): try? future.setResult(value)
        case .failure(let error): try? future.setException(error)
        }
    }
    return PoolJob(
        request: request,
        begin: { future.setRunningOrNotifyCancel() },
        complete: { result in
            switch result {
            case .success(let outcome): finish(Swift.Result { try transform(outcome) })
            case .failure(let error): finish(.failure(error))
            }
        },
        cancel: { error in
            if let futureError = error as? FutureError, futureError == .cancelled {
                future.cancel()
            } else if future.setRunningOrNotifyCancel() {
                finish(.failure(error))
            }
        })
}

/// Makes the jobs of a map: one per chunk, each completing with every item's own outcome.
/// - Throws: `MultiprocessingError.encodingFailed` when a chunk's arguments cannot be encoded.
func makeChunkJobs<Argument, Result>(
    _ function: WorkerFunction<Argument, Result>, items: [Argument], chunksize: Int
) throws(MultiprocessingError) -> (jobs: [PoolJob], futures: [Future<[Swift.Result<Result, any Error>]>], sizes: [Int]) {
    var jobs: [PoolJob] = []
    var futures: [Future<[Swift.Result<Result, any Error>]>] = []
    var sizes: [Int] = []
    let signature = WorkerFunction<Argument, Result>.signature
    for chunk in chunked(items, size: chunksize) {
        let future = Future<[Swift.Result<Result, any Error>]>()
        let count = chunk.count
        futures.append(future)
        sizes.append(count)
        jobs.append(
            makeJob(try function.request(chunk, signature: signature), future: future) { outcome in
                function.decodeChunk(outcome, count: count)
            })
    }
    return (jobs, futures, sizes)
}

/// A future of every item's value in order, done when all `chunks` are; it fails with the first
/// failing item's error. `beforeResult` runs before it completes.
func gather<Value: Sendable>(
    _ chunks: [Future<[Swift.Result<Value, any Error>]>],
    beforeResult: (@Sendable (Swift.Result<[Value], any Error>) -> Void)? = nil
) -> Future<[Value]> {
    let whole = Future<[Value]>()
    _ = whole.setRunningOrNotifyCancel()
    let remaining = Locked(chunks.count)
    @Sendable func finish() {
        var values: [Value] = []
        var outcome: Swift.Result<[Value], any Error> = .success([])
        do {
            for chunk in chunks {
                for item in try chunk.result(timeout: 0) { values.append(try item.get()) }
            }
            outcome = .success(values)
        } catch {
            outcome = .failure(error)
        }
        beforeResult?(outcome)
        switch outcome {
        case .success(let all): try? whole.setResult(all)
        case .failure(let error): try? whole.setException(error)
        }
    }
    if chunks.isEmpty {
        finish()
        return whole
    }
    for chunk in chunks {
        chunk.addDoneCallback { _ in
            let last = remaining.withLock { count -> Bool in
                count -= 1
                return count == 0
            }
            if last { finish() }
        }
    }
    return whole
}
