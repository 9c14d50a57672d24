import Spindle
let lock = Lock()
nonisolated(unsafe) var counter = 0
var threads: [SpindleThread] = []
for _ in 0..<4 {
    let t = SpindleThread { for _ in 0..<100_000 { lock.withLock { counter += 1 } } }
    threads.append(t)
    try t.start()
}
for t in threads { try t.join() }
print(counter, SpindleThread.current.name, SpindleThread.activeCount)
let e = Event()
let timer = SpindleTimer(interval: 0.1) { e.set() }
try timer.start()
print(e.wait(timeout: 2))
let b = Barrier(parties: 3)
let ts = (0..<3).map { _ in SpindleThread { let i = try b.wait(); print("idx", i) } }
for t in ts { try t.start() }
for t in ts { try t.join() }
let c = Condition()
nonisolated(unsafe) var ready = false
let w = SpindleThread { c.withLock { _ = try! c.waitFor { ready }; print("cond ok") } }
try w.start()
c.withLock { ready = true; try! c.notifyAll() }
try w.join()
let local = ThreadLocal { 0 }
local.value = 5
let lt = SpindleThread { print("child local", local.value); local.value = 9 }
try lt.start(); try lt.join()
print("main local", local.value)
let nd = SpindleThread(name: "late") { let _ = e.wait(timeout: 0.3); print("non-daemon done before exit") }
try nd.start()
