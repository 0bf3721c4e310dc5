import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `secrets: { command: [...] }`: the job's secrets from a store through a helper program, run
/// once per run; every way the helper can fail is an error naming the secret, and nothing is sent.
@Suite struct SecretsCommandTests {
    /// The quick start with its API secret named for the helper instead of an environment variable.
    static func job(_ harness: SyncHarness, command: [String], timeout: Int? = nil) throws {
        try harness.example.editJob("quickstart.yml") { job in
            var api = job.section("api")
            api["client_secret_env"] = nil
            api["client_secret_secret"] = "compliance/client-secret"
            job["api"] = api
            var secrets: [String: Any] = ["command": command]
            if let timeout { secrets["timeout_seconds"] = timeout }
            job["secrets"] = secrets
        }
    }

    /// A helper written in Python for one test.
    static func helper(_ harness: SyncHarness, _ body: String) throws -> [String] {
        let script = "import json, sys, time\nrequest = json.load(sys.stdin)\n" + body + "\n"
        try harness.example.write("helper.py", script)
        return ["/usr/bin/python3", harness.example.path("helper.py")]
    }

    /// A `pass` store (GnuPG, a key made for the test) under `folder` holding `secrets`.
    /// - Returns: the environment that finds it.
    static func passStore(in folder: URL, _ secrets: [String: String]) async throws -> [String: String] {
        let home = folder.appendingPathComponent("gnupg").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        chmod(home, 0o700)
        let env = ["GNUPGHOME": home, "PASSWORD_STORE_DIR": folder.appendingPathComponent("password-store").path]
        let key = try await runProcess(
            "/usr/bin/gpg",
            [
                "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                "compliance-sync test <secrets@example.invalid>", "default", "default", "never",
            ], environment: env)
        #expect(key.status == 0, "\(key.stderr)")
        #expect(
            try await runProcess("/usr/bin/pass", ["init", "secrets@example.invalid"], environment: env).status == 0)
        for (name, value) in secrets {
            let insert = try await runProcess(
                "/bin/sh", ["-c", "printf '%s\\n' \"$SECRET\" | pass insert --echo \"$NAME\""],
                environment: env.merging(["SECRET": value, "NAME": name]) { $1 })
            #expect(insert.status == 0, "\(insert.all)")
        }
        return env
    }

    static let storeSecrets = repositoryRoot.appendingPathComponent("examples/secrets/store-secrets").path

    @Test func aRealPasswordStoreGivesTheClientSecret() async throws {
        try await withHarness { harness in
            let env = try await Self.passStore(
                in: harness.example.folder, ["compliance/client-secret": SyncHarness.secret])
            try Self.job(harness, command: [Self.storeSecrets, "pass"])
            // Without COMPLIANCE_CLIENT_SECRET: the secret comes from the store only.
            let sync = try await runCLI(
                ["sync", "--config", harness.example.path("quickstart.yml")],
                environment: env.merging(["COMPLIANCE_CLIENT_SECRET": ""]) { $1 })
            _ = try await runProcess("/usr/bin/gpgconf", ["--kill", "gpg-agent"], environment: env)
            #expect(sync.status == 0, "\(sync.all)")
            #expect(sync.stdout.contains("created 28"), "\(sync.stdout)")
            let state = try harness.stateBytes()
            #expect(!sync.all.contains(SyncHarness.secret) && state.range(of: Data(SyncHarness.secret.utf8)) == nil)
        }
    }

    /// The store holds the API's secret and the directory's bind password; the job names both.
    @Test(.enabled(if: TestServers.ldap, Comment(rawValue: TestServers.why)))
    func aRealPasswordStoreGivesTheLDAPBindPassword() async throws {
        let url = try TestServers.setting("LDAP_TEST_URL"), base = try TestServers.setting("LDAP_TEST_BASE")
        let adminDN = try TestServers.setting("LDAP_TEST_ADMIN_DN")
        let password = try TestServers.setting("LDAP_TEST_ADMIN_PASSWORD")
        try await withSimulator(.forClient("pass-job", secret: "pass-Job-Secret-1")) { simulator in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pass-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let env = try await Self.passStore(
                in: folder, ["compliance/client-secret": "pass-Job-Secret-1", "ldap/bind-password": password])
            let job = folder.appendingPathComponent("directory.yml").path
            try """
            secrets:
              command: [\(Self.storeSecrets), pass]
            api:
              base_url: \(simulator.baseURL)
              client_id: pass-job
              client_secret_secret: compliance/client-secret
            source:
              type: ldap
              url: \(url)
              bind_dn: "\(adminDN)"
              bind_password_secret: ldap/bind-password
              base_dn: \(base)
              filter: (objectClass=inetOrgPerson)
            mapping:
              first_name: givenName
              last_name: sn
              email: { attribute: mail, transform: [first, lowercase] }
              employee_id: employeeNumber

            """.write(toFile: job, atomically: true, encoding: .utf8)
            let validate = try await runCLI(["validate", "--config", job], environment: env)
            _ = try await runProcess("/usr/bin/gpgconf", ["--kill", "gpg-agent"], environment: env)
            #expect(validate.status == 0, "\(validate.all)")
            #expect(validate.stdout.contains("token endpoint: credentials accepted"), "\(validate.stdout)")
            #expect(!validate.all.contains(password) && !validate.all.contains("pass-Job-Secret-1"))
        }
    }

    @Test func theHelperRunsOnceWithEveryNameOnItsStandardInput() async throws {
        try await withHarness { harness in
            let log = harness.example.path("requests.log")
            try Self.job(
                harness,
                command: try Self.helper(
                    harness,
                    """
                    open("\(log)", "a").write(json.dumps(request) + " " + json.dumps(sys.argv[1:]) + "\\n")
                    print(json.dumps({name: {"value": "\(SyncHarness.secret)"} for name in request["secrets"]}))
                    """))
            try harness.example.editJob("quickstart.yml") { job in
                job["notify"] = [["url_secret": "ops/webhook-url", "on": ["failure"]]]
            }
            let plan = try await harness.run("plan", environment: ["COMPLIANCE_CLIENT_SECRET": ""])
            #expect(plan.status == 0 || plan.status == 3, "\(plan.all)")
            let requests = try harness.example.read("requests.log").split(separator: "\n")
            #expect(requests.count == 1, "once a run: \(requests)")
            let line = String(requests.first ?? "")
            let request =
                try JSONSerialization.jsonObject(
                    with: Data(line[..<(line.lastIndex(of: " ") ?? line.endIndex)].utf8)) as? [String: Any]
            #expect(request?["version"] as? String == "1.0", "\(line)")
            #expect(
                Set(request?["secrets"] as? [String] ?? []) == ["compliance/client-secret", "ops/webhook-url"],
                "\(line)")
            #expect(requests.first?.hasSuffix("[]") == true, "no name on the command line")
        }
    }

    @Test(arguments: [
        ("missing", "was not found on PATH"),
        ("exit", "exited with status 3: vault: permission denied"),
        ("garbage", "did not answer with a JSON object"),
        ("left-out", "left compliance/client-secret out of its answer"),
        ("error", "could not give compliance/client-secret: no such secret"),
        ("slow", "did not finish within 1 seconds"),
    ])
    func everyFailureNamesTheSecretAndSendsNothing(kind: String, expected: String) async throws {
        try await withHarness { harness in
            let command: [String]
            switch kind {
            case "missing": command = ["no-such-secrets-helper"]
            case "exit":
                command = try Self.helper(harness, #"sys.stderr.write("vault: permission denied\n"); sys.exit(3)"#)
            case "garbage": command = try Self.helper(harness, #"print("value: s3cret")"#)
            case "left-out": command = try Self.helper(harness, #"print(json.dumps({"other": {"value": "x"}}))"#)
            case "error":
                command = try Self.helper(
                    harness, #"print(json.dumps({request["secrets"][0]: {"error": "no such secret"}}))"#)
            default: command = try Self.helper(harness, "time.sleep(30)")
            }
            try Self.job(harness, command: command, timeout: kind == "slow" ? 1 : nil)
            let sync = try await harness.run("sync", environment: ["COMPLIANCE_CLIENT_SECRET": ""])
            #expect(sync.status == 2, "\(sync.all)")
            #expect(sync.stderr.contains(expected), "\(sync.stderr)")
            #expect(sync.stderr.contains("compliance/client-secret"), "the secret is named: \(sync.stderr)")
            #expect(await harness.people().isEmpty, "nothing was sent")
        }
    }

    /// A helper that exits without reading its request (a wrapper that fails at once) used to kill
    /// compliance-sync with SIGPIPE, silently (status 141), most runs: now an error every time.
    @Test func aHelperThatNeverReadsItsRequestIsAnErrorNotASilentDeath() async throws {
        try await withHarness { harness in
            try Self.job(harness, command: ["/bin/sh", "-c", "echo 'vault: not logged in' >&2; exit 3"])
            for _ in 0..<12 {
                let validate = try await harness.run("validate", environment: ["COMPLIANCE_CLIENT_SECRET": ""])
                #expect(validate.status == 2, "\(validate.all)")
                #expect(validate.stderr.contains("exited with status 3: vault: not logged in"), "\(validate.all)")
            }
        }
    }

    /// A helper past its timeout is stopped with everything it started (its process group), so a
    /// store's client it ran cannot linger, holding the answer's pipe open.
    @Test func aHelperPastItsTimeoutIsStoppedWithWhatItStarted() async throws {
        try await withHarness { harness in
            let marker = harness.example.path("grandchild.pid")
            try Self.job(
                harness, command: ["/bin/sh", "-c", "sleep 300 & echo $! > \(marker); wait"], timeout: 1)
            let started = Date()
            let sync = try await harness.run("sync", environment: ["COMPLIANCE_CLIENT_SECRET": ""])
            #expect(sync.status == 2 && sync.stderr.contains("did not finish within 1 seconds"), "\(sync.all)")
            #expect(Date().timeIntervalSince(started) < 15, "no wait on the grandchild's pipe")
            let pid = try #require(
                Int32(try harness.example.read("grandchild.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
            var gone = false
            for _ in 0..<50 where !gone {
                // Gone, or a zombie its new parent has yet to reap.
                let state = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
                gone = state == nil || state!.split(separator: ")").last?.split(separator: " ").first == "Z"
                if !gone { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(gone, "the helper's child \(pid) was stopped with it")
            if !gone { kill(pid, SIGKILL) }
        }
    }

    /// `LoadCredentialEncrypted=`: a credential encrypted with `systemd-creds` (the host key), which
    /// systemd decrypts into `$CREDENTIALS_DIRECTORY` for a run. systemd-run needs systemd as PID 1,
    /// which a build machine may not have, so the test decrypts into the same layout with
    /// `systemd-creds decrypt`. The credential is read fresh by each run: a rotated one is used by
    /// the next run, with nothing to restart.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-creds")))
    func anEncryptedSystemdCredentialIsReadFreshEachRun() async throws {
        try await withHarness { harness in
            try harness.example.editJob("quickstart.yml") { job in
                var api = job.section("api")
                api["client_secret_env"] = nil
                api["client_secret_credential"] = "client-secret"
                job["api"] = api
            }
            let folder = harness.example.folder
            let credentials = folder.appendingPathComponent("credentials").path
            try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
            /// Encrypts `secret` as the unit's credential would be, and decrypts it where systemd would put it.
            func install(_ secret: String) async throws {
                let plain = folder.appendingPathComponent("secret.txt").path
                let sealed = folder.appendingPathComponent("client-secret.cred").path
                try secret.write(toFile: plain, atomically: true, encoding: .utf8)
                let encrypt = try await runProcess(
                    "/usr/bin/systemd-creds", ["encrypt", "--with-key=host", "--name=client-secret", plain, sealed])
                #expect(encrypt.status == 0, "\(encrypt.stderr)")
                try FileManager.default.removeItem(atPath: plain)
                #expect(try !Data(contentsOf: URL(fileURLWithPath: sealed)).contains(Data(secret.utf8)), "sealed")
                let target = credentials + "/client-secret"
                try? FileManager.default.removeItem(atPath: target)
                let decrypt = try await runProcess(
                    "/usr/bin/systemd-creds", ["decrypt", "--name=client-secret", sealed, target])
                #expect(decrypt.status == 0, "\(decrypt.stderr)")
                chmod(target, 0o400)
            }
            let env = ["CREDENTIALS_DIRECTORY": credentials, "COMPLIANCE_CLIENT_SECRET": ""]
            try await install("an-old-Secret-0")
            let refused = try await harness.run("sync", environment: env)
            #expect(refused.status != 0 && refused.stderr.contains("refused the client credentials"), "\(refused.all)")
            try await install(SyncHarness.secret)
            let accepted = try await harness.run("sync", environment: env)
            #expect(accepted.status == 0, "\(accepted.all)")
            #expect(await harness.people().count == 28, "the rotated secret was used, with no restart")
            #expect(!accepted.all.contains(SyncHarness.secret) && !refused.all.contains("an-old-Secret-0"))
        }
    }
}
