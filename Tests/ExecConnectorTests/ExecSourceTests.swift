import ConnectorCore
import ConnectorTestKit
import Foundation
import Logging
import SyncCore
import TestSupport
import Testing

@testable import ExecConnector

/// The exec connector against real programs (Python scripts written per test).
@Suite struct ExecSourceTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    static let header = #"print('{"protocol": "compliance-sync.records", "version": 1}')"#

    /// A source running `python3 prog.py` with `script` after the import line.
    func source(_ script: String, timeout: Int = 30, logger: Logger = Logger(label: "test")) throws -> ExecSource {
        try ("import json, os, sys, time\n" + script).write(
            to: folder.appendingPathComponent("prog.py"), atomically: true, encoding: .utf8)
        var source = ExecSource(
            command: ["python3", "prog.py"], environment: ["PATH": "/usr/bin:/bin", "ONLY_THIS": "yes"],
            directory: folder.path, logger: logger)
        source.timeoutSeconds = timeout
        return source
    }

    func failure(_ source: ExecSource) async -> String {
        await readFailure(source).map { String(describing: $0) } ?? "no error"
    }

    /// A program that stops early but exits 0: caught by its end line's count, or by `require_end`.
    @Test func theEndLineCountsTheRecords() async throws {
        let two =
            Self.header + """

                for n in (1, 2): print(json.dumps({"id": f"E{n}", "attributes": {}}))
                """
        let matching = try await readAll(try source(two + "\nprint(json.dumps({'end': {'records': 2}}))"))
        #expect(matching.map(\.id) == ["E1", "E2"])
        let short = await failure(try source(two + "\nprint(json.dumps({'end': {'records': 3}}))"))
        #expect(short.contains("said it printed 3 records (its end line), but printed 2"), "\(short)")
        let after = await failure(
            try source(two + "\nprint(json.dumps({'end': {'records': 2}}))\nprint(json.dumps({'id': 'E3'}))"))
        #expect(after.contains("comes after the end line"), "\(after)")
        let bad = await failure(try source(two + "\nprint(json.dumps({'end': {'records': -1}}))"))
        #expect(bad.contains("is not an end line"), "\(bad)")
        var strict = try source(two)
        strict.requireEnd = true
        let missing = await failure(strict)
        #expect(missing.contains("but no end line"), "\(missing)")
        #expect(try await readAll(try source(two)).count == 2, "optional in version 1")
    }

    /// One id on two lines is data, not a broken protocol: both records reach the engine (which makes
    /// both invalid, as for a file or a Swift source), each with its own line, and the end line counts both.
    @Test func oneIdOnTwoLinesReachesTheEngineAsTwoRecords() async throws {
        let records = try await readAll(
            try source(
                Self.header + """

                    for n in (1, 2, 1): print(json.dumps({"id": f"E{n}", "attributes": {"n": str(n)}}))
                    print(json.dumps({'end': {'records': 3}}))
                    """))
        #expect(records.map(\.id) == ["E1", "E2", "E1"])
        #expect(
            records.map { $0.location?.description ?? "" } == [
                "line 2 of the output of python3 prog.py", "line 3 of the output of python3 prog.py",
                "line 4 of the output of python3 prog.py",
            ])
    }

    @Test func readsRecordsWithEveryKindOfValue() async throws {
        let records = try await readAll(
            try source(
                Self.header + """

                    print(json.dumps({"id": "E1", "attributes": {"given": "Zoë", "mail": ["a@x.com", "b@x.com"], "n": 42,
                          "ok": True, "gone": None, "photo": {"base64": "AAEC"}, "env": os.environ.get("ONLY_THIS"),
                          "home": os.environ.get("HOME", "unset"), "cwd": os.getcwd()}}))
                    print()
                    print(json.dumps({"id": "E2", "attributes": {}}))
                    """))
        #expect(records.map(\.id) == ["E1", "E2"])
        let first = records[0]
        #expect(first["given"] == .text("Zoë"))
        #expect(first["mail"] == .multiple(["a@x.com", "b@x.com"]))
        #expect(first["n"] == .text("42"))
        #expect(first["ok"] == .text("true"))
        #expect(first["gone"] == nil)
        #expect(first["photo"] == .binary(Data([0, 1, 2])))
        #expect(first["env"] == .text("yes"))
        #expect(first["home"] == .text("unset"), "only the environment given")
        #expect(
            first["cwd"]?.texts.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
                == folder.resolvingSymlinksInPath().path)
        #expect(first.location?.description == "line 2 of the output of python3 prog.py")
        #expect(records[1].location?.description == "line 4 of the output of python3 prog.py")
    }

    @Test func theHeaderComesFirstAndNamesAVersionThisBuildReads() async throws {
        let missing = await failure(try source(#"print(json.dumps({"id": "E1", "attributes": {}}))"#))
        #expect(
            missing.contains("line 1 of the output of python3 prog.py: the first line must be the protocol header"),
            "\(missing)")
        let stray = await failure(try source(#"print("starting export")"# + "\n" + Self.header))
        #expect(stray.contains("the first line must be the protocol header, not other text"), "\(stray)")
        #expect(stray.contains("print diagnostics to standard error"), "\(stray)")
        let newer = await failure(try source(#"print('{"protocol": "compliance-sync.records", "version": 2}')"#))
        #expect(newer.contains("speaks version 2 of the protocol"), "\(newer)")
        let quoted = await failure(try source(#"print('{"protocol": "compliance-sync.records", "version": "1"}')"#))
        #expect(quoted.contains(#"the header's "version" is string "1", not a number"#), "\(quoted)")
        #expect(quoted.contains("without quotes"), "\(quoted)")
        let later = await failure(try source(Self.header + "\n" + #"print("read 3 rows")"#))
        #expect(later.contains("line 2 of the output of python3 prog.py: is not valid JSON"), "\(later)")
        #expect(later.contains("print diagnostics to standard error"), "a stray line anywhere: \(later)")
    }

    /// The program gets standard input, output and error and nothing else of this process: not a
    /// descriptor opened without close-on-exec (a library's socket, another source's pipe, which
    /// would keep that source's output from ever ending while this program runs).
    @Test func theProgramInheritsNoOtherDescriptor() async throws {
        var leaky: [Int32] = [0, 0]
        #expect(pipe(&leaky) == 0)
        defer { leaky.forEach { close($0) } }
        let records = try await readAll(
            try source(
                Self.header + """

                    fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
                    print(json.dumps({"id": "E1", "attributes": {"fds": [str(n) for n in fds]}}))
                    """))
        let fds = records.first.flatMap { $0.values.first ?? nil }?.texts ?? []
        #expect(!fds.isEmpty)
        #expect(!fds.contains(String(leaky[0])) && !fds.contains(String(leaky[1])), "inherited: \(fds)")
        #expect(fds.filter { Int($0)! > 2 }.count <= 1, "only the listing's own descriptor past 2: \(fds)")
    }

    @Test func theProgramIsNamedByItsScript() {
        #expect(
            ExecSource.programName(["python3", "-u", "tools/hr_connector.py", "--since", "7d"]) == "hr_connector.py")
        #expect(ExecSource.programName(["/usr/bin/python3.11", "hr.py"]) == "hr.py")
        #expect(ExecSource.programName(["node", "--max-old-space-size=4096", "roster.js"]) == "roster.js")
        #expect(ExecSource.programName(["/opt/hr/export-people", "--all"]) == "export-people")
        #expect(ExecSource.programName(["shellcheck", "x.sh"]) == "shellcheck", "sh as a prefix is not sh")
    }

    @Test func aMalformedLineIsNamedByItsNumber() async throws {
        for (line, expected) in [
            (
                #"print('{"id": "E2", "attributes": {"a": 1}')"#,
                "line 3 of the output of python3 prog.py: is not valid JSON"
            ),
            (#"print('["E2"]')"#, "line 3 of the output of python3 prog.py: is not a JSON object"),
            (#"print('{"id": "", "attributes": {}}')"#, "line 3 of the output of python3 prog.py: needs \"id\""),
            (
                #"print('{"id": "E2", "attribute": {}}')"#,
                "line 3 of the output of python3 prog.py: has the unknown key \"attribute\""
            ),
            (
                #"print('{"id": "E2", "attributes": {"m": {"x": 1}}}')"#,
                "line 3 of the output of python3 prog.py: has an object in \"m\""
            ),
            (
                #"print('{"id": "E2", "attributes": {"m": [[1]]}}')"#,
                "line 3 of the output of python3 prog.py: has a list in \"m\" holding a list"
            ),
        ] {
            let message = await failure(
                try source(
                    Self.header + """

                        print('{"id": "E1", "attributes": {}}')
                        \(line)
                        print('{"id": "E9", "attributes": {}}')
                        """))
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test func aFailingProgramFailsTheReadAndItsStandardErrorIsLogged() async throws {
        let recorder = LogRecorder()
        let logger = recorder.logger
        let message = await failure(
            try source(
                Self.header + """

                    print('{"id": "E1", "attributes": {}}')
                    sys.stdout.flush()
                    print("HR API answered 503", file=sys.stderr)
                    sys.exit(3)
                    """, logger: logger))
        #expect(message.contains("failed with exit status 3 after printing 1 records"), "\(message)")
        #expect(recorder.messages.contains("prog.py: HR API answered 503"), "under the script's name, not python3's")
    }

    @Test func aProgramThatRunsTooLongIsStopped() async throws {
        let started = Date()
        let message = await failure(try source(Self.header + "\ntime.sleep(120)\n", timeout: 1))
        // "did not finish within", or on a starved machine the reader's own deadline first: "its output within".
        #expect(message.contains("within 1 s and was stopped"), "\(message)")
        // Far sooner than the program would end, even on a machine the parallel suites saturate.
        #expect(Date().timeIntervalSince(started) < 100, "far sooner than the program would end (120 s)")
    }

    /// A process the program started in a session of its own keeps the output pipe open after
    /// the program exits; the read still ends at the timeout.
    @Test func aGrandchildHoldingTheOutputOpenCannotHangTheRun() async throws {
        let started = Date()
        let message = await failure(
            try source(
                Self.header + """

                    import subprocess
                    subprocess.Popen(["setsid", "sleep", "120"])
                    print(json.dumps({"id": "E1", "attributes": {}}), flush=True)
                    """, timeout: 2))
        #expect(message.contains("did not finish its output within 2 s"), "\(message)")
        // Sooner than the grandchild's 120 s, even when the parallel suites saturate both cores (48 s seen once).
        #expect(Date().timeIntervalSince(started) < 100)
    }

    @Test func aLineWithoutEndIsCutOffAtTheLimit() async throws {
        var source = try source(
            Self.header + """

                sys.stdout.write("x" * 200000)
                sys.stdout.flush()
                time.sleep(120)
                """)
        source.maxLineBytes = 65536
        let started = Date()
        let message = await failure(source)
        #expect(
            message.contains("line 2 of the program's output is longer than source.max_record_bytes (65536 bytes)"),
            "\(message)")
        #expect(Date().timeIntervalSince(started) < 100, "far sooner than the program would end (120 s)")
    }

    @Test func aMissingProgramIsNamed() async throws {
        let source = ExecSource(
            command: ["no-such-connector"], environment: ["PATH": "/usr/bin"], directory: folder.path,
            logger: Logger(label: "test"))
        let message = await failure(source)
        #expect(message.contains("cannot start no-such-connector"), "\(message)")
    }

    @Test func stoppingEarlyStopsTheProgram() async throws {
        let source = try source(
            Self.header + """

                i = 0
                while True:
                    i += 1
                    print(json.dumps({"id": f"E{i}", "attributes": {}}))
                """)
        var seen = 0
        for try await _ in source.records() {
            seen += 1
            if seen == 5000 { break }
        }
        #expect(seen == 5000)
    }
}

/// Seeded random lines through the exec protocol: read or a named error, never a trap.
@Suite struct ExecProtocolFuzzTests {
    @Test func protocolLinesNeverCrash() throws {
        let corpus: [[UInt8]] = [
            #"{"protocol": "compliance-sync.records", "version": 1}"#,
            #"{"id": "E1", "attributes": {"a": "x", "b": ["1", 2, true, null], "c": {"base64": "AAEC"}, "d": null}}"#,
            #"{"id": "", "attributes": {}}"#,
            #"{"id": "E2", "attributes": {"x": {"base64": "%%%"}}, "extra": 1}"#,
        ].map { Array($0.utf8) }
        var fuzzer = Fuzzer(seed: 21)
        for _ in 0..<Fuzzer.iterations(3000) {
            var parser = ExecProtocol(place: "fuzz")
            _ = try parser.read(corpus[0][...], number: 1)
            let line = fuzzer.input(from: corpus)
            do {
                _ = try parser.read(line[...], number: 2)
            } catch let error as SyncError {
                #expect(error.message.hasPrefix("line 2 of the output of fuzz"), "\(error.message)")
            }
        }
    }
}
