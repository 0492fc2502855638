import Foundation
#if canImport(Glibc)
import CDossierSystem
import Glibc
#endif

/// A bounded first-in first-out queue for handing work between threads. `push` blocks while the
/// queue is full (back-pressure keeps memory bounded), `pop` blocks while it is empty and returns
/// nil once the queue is closed and drained.
///
/// Wake-ups are rationed. The import's reader is faster than its workers, so the queue is
/// nearly always full: waking the reader at every `pop` made it push one item and sleep again,
/// a futex round trip and two context switches per message (about a second of CPU per 100,000
/// messages on 2 cores). A waiting pusher is woken only once the queue has drained to half, and
/// then refills it in one go; a waiting popper only when there is something to pop.
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false
    private let capacity: Int
    private var waitingPushers = 0
    private var waitingPoppers = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func push(_ element: Element) {
        condition.lock()
        defer { condition.unlock() }
        if items.count - head >= capacity && !closed {
            waitingPushers += 1
            while items.count - head > capacity / 2 && !closed { condition.wait() }
            waitingPushers -= 1
        }
        items.append(element)
        if waitingPoppers > 0 { condition.broadcast() }
    }

    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        if head == items.count && !closed {
            waitingPoppers += 1
            while head == items.count && !closed { condition.wait() }
            waitingPoppers -= 1
        }
        return take()
    }

    /// The next element if one is there now, without waiting; nil when the queue is empty
    /// (closed or not).
    func popWithoutWaiting() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return take()
    }

    /// Removes the head; the lock is held.
    private func take() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        if waitingPushers > 0 && items.count - head <= capacity / 2 { condition.broadcast() }
        return element
    }

    /// No more pushes; poppers drain what is left and then get nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Results produced out of order by parallel workers, handed out strictly in sequence order so
/// the archive is written deterministically whatever the thread timing.
final class ReorderBuffer<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Int: Element] = [:]
    private var next = 0
    private var total: Int?
    /// Whether the taker is waiting: only then does a `put` of the element it waits for wake it.
    private var waiting = false

    func put(_ sequence: Int, _ element: Element) {
        condition.lock()
        pending[sequence] = element
        if waiting && sequence == next { condition.broadcast() }
        condition.unlock()
    }

    /// Several elements under one lock.
    func put<S: Sequence>(contentsOf elements: S) where S.Element == (Int, Element) {
        condition.lock()
        var wakes = false
        for (sequence, element) in elements {
            pending[sequence] = element
            if sequence == next { wakes = true }
        }
        if waiting && wakes { condition.broadcast() }
        condition.unlock()
    }

    /// Declares how many elements there will be in all (once the producer is done).
    func finish(total: Int) {
        condition.lock()
        self.total = total
        condition.broadcast()
        condition.unlock()
    }

    enum Taken {
        case element(Element)
        /// Nothing arrived within the timeout.
        case timedOut
        /// Every element has been taken.
        case finished
    }

    /// The next element in sequence, waiting at most `timeout` seconds for it.
    func take(timeout: Double) -> Taken {
        condition.lock()
        defer { condition.unlock() }
        if let element = removeNext() { return .element(element) }
        let deadline = Date(timeIntervalSinceNow: timeout)
        waiting = true
        defer { waiting = false }
        while true {
            if let total, next >= total { return .finished }
            let woken = condition.wait(until: deadline)
            if let element = removeNext() { return .element(element) }
            if !woken { return next >= (total ?? .max) ? .finished : .timedOut }
        }
    }

    /// The element numbered `next`, if it has arrived; the lock is held.
    private func removeNext() -> Element? {
        guard let element = pending.removeValue(forKey: next) else { return nil }
        next += 1
        return element
    }
}

/// A budget of bytes in flight between the reader and the writer. The reader acquires a
/// message's size before handing it on; the writer releases it once the message is committed.
/// One message larger than the whole budget is let through alone, so nothing ever deadlocks.
final class ByteBudget: @unchecked Sendable {
    private let condition = NSCondition()
    let limit: Int
    private var inFlight = 0

    init(limit: Int) {
        self.limit = limit
    }

    func acquire(_ bytes: Int) {
        condition.lock()
        while inFlight > 0 && inFlight + bytes > limit { condition.wait() }
        inFlight += bytes
        condition.unlock()
    }

    func release(_ bytes: Int) {
        condition.lock()
        inFlight -= bytes
        condition.broadcast()
        condition.unlock()
    }
}

/// A flag another thread (a signal handler's dispatch source, a test) sets to stop an import
/// cleanly: reading stops, what was read is committed, the run is marked interrupted.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}

/// A throwing closure run once on a global dispatch queue; `wait()` blocks until it has finished
/// and rethrows its error.
final class BackgroundTask: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var error: Error?

    init(_ body: @escaping @Sendable () throws -> Void) {
        DispatchQueue.global().async { [self] in
            do { try body() } catch { self.error = error }
            finished.signal()
        }
    }

    func wait() throws {
        finished.wait()
        finished.signal()
        if let error { throw error }
    }
}

/// Scheduling priorities inside one import.
enum ThreadPriority {
    /// Lowers the calling thread below the import's writer (Linux: nice +5 for this thread only).
    ///
    /// The writer stores messages strictly in read order, one at a time, and is the pipeline's
    /// bottleneck; on 2 cores the reader and the parsing workers kept preempting it (about 2 s
    /// of a 100k import off the CPU while runnable). They only need to stay ahead of it, and the
    /// byte budget and the queues make them wait when they are. Interleaved 100k runs: 1.5 s
    /// faster on average (six pairs: four faster, one equal, one 0.4 s slower).
    static func yieldToWriter() {
        #if os(Linux)
        let thread = id_t(gettid())
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread)
        // -1 with errno set is a failure; the thread then keeps its priority.
        guard errno == 0 else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, min(current + 5, 19))
        #endif
    }
}
