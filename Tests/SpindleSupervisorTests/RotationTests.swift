import Foundation
import Glibc
import SpindleSupervisor
import Testing

/// RotatingLogFile's line rules under random input, plain and compressed, against a model of
/// them: a whole line goes to the current file unless it would take it past maxBytes (then the
/// file rotates first); only a line longer than maxBytes is cut, into maxBytes pieces.
@Suite("log rotation model", .serialized, .timeLimit(.minutes(2)))
struct RotationTests {
    /// The files the rules make from `lines`, oldest first (the last is the live file).
    static func model(_ lines: [[UInt8]], maxBytes: Int) -> [[UInt8]] {
        var files: [[UInt8]] = [[]]
        func put(_ piece: ArraySlice<UInt8>) {
            if !files[files.count - 1].isEmpty, files[files.count - 1].count + piece.count > maxBytes { files.append([]) }
            files[files.count - 1] += piece
        }
        for line in lines {
            if line.count > maxBytes {
                var offset = 0
                while offset < line.count {
                    put(line[offset..<min(offset + maxBytes, line.count)])
                    offset += maxBytes
                }
            } else {
                put(line[...])
            }
        }
        return files
    }

    static func gunzip(_ path: String) -> [UInt8]? {
        let out = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        process.standardOutput = out
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? Array(data) : nil
    }

    @Test(arguments: [false, true])
    func randomLinesInRandomPiecesFollowTheRules(compress: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-rotation-\(getpid())-\(compress)").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var generator = SystemRandomNumberGenerator()
        let maxBytes = 300
        var lines: [[UInt8]] = []
        for i in 0..<1200 {
            // Mostly short lines, some near maxBytes, a few longer than it.
            let length = [Int.random(in: 1...60, using: &generator), Int.random(in: 200...300, using: &generator), Int.random(in: 301...900, using: &generator)][
                i % 50 == 0 ? 2 : (i % 7 == 0 ? 1 : 0)]
            var line = (0..<(length - 1)).map { _ in UInt8.random(in: 97...122, using: &generator) }
            line.append(10)
            lines.append(line)
        }
        let stream = lines.flatMap { $0 }
        let expected = RotationTests.model(lines, maxBytes: maxBytes)
        let path = dir + "/out.log"
        let file = try RotatingLogFile(path: path, maxBytes: maxBytes, backups: expected.count, compress: compress)
        var offset = 0
        while offset < stream.count {
            let piece = Int.random(in: 1...2000, using: &generator)
            file.write(stream[offset..<min(offset + piece, stream.count)])
            offset += piece
        }
        file.close()
        #expect(RotatingLogFile.waitForCompression(timeout: 60))
        var files: [[UInt8]] = []
        for n in stride(from: expected.count - 1, through: 1, by: -1) {
            let backup = compress ? RotationTests.gunzip("\(path).\(n).gz") : FileManager.default.contents(atPath: "\(path).\(n)").map(Array.init)
            files.append(backup ?? Array("<missing \(n)>".utf8))
        }
        files.append(FileManager.default.contents(atPath: path).map(Array.init) ?? [])
        #expect(files.count == expected.count)
        #expect(files == expected, "first difference at file \(Array(zip(files, expected)).firstIndex { $0.0 != $0.1 } ?? -1) of \(expected.count)")
    }
}
