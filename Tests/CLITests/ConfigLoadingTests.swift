import ConnectorCore
import Foundation
import JobConfig
import Logging
import SyncCore
import TestSupport
import Testing

@testable import ComplianceSyncCLI

@Suite struct ConfigLoadingTests {
    let base = """
        source:
          type: csv
          path: people.csv
          id: employee_number
        mapping:
          first_name: first_name
          last_name: last_name
          email: email

        """

    func load(_ yaml: String, environment: [String: String] = [:]) throws -> JobConfiguration {
        let root = try YAMLConfigLoader.parse(yaml, file: "/etc/jobs/job.yml", environment: environment)
        return try JobConfiguration(root: root, file: "/etc/jobs/job.yml")
    }

    /// What building the source of a job with `source` (and a minimal mapping) says: "no error" or the error.
    func sourceError(_ source: String, environment: [String: String] = [:]) throws -> String {
        let job = try load(source + "mapping:\n  first_name: a\n  last_name: b\n  email: c\n", environment: environment)
        do {
            _ = try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "t"))
            return "no error"
        } catch {
            return String(describing: error)
        }
    }

    func error(_ yaml: String, environment: [String: String] = [:]) -> SyncError? {
        do {
            _ = try load(yaml, environment: environment)
            return nil
        } catch {
            return error as? SyncError
        }
    }

    @Test func quickstartLoadsWithDefaults() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/quickstart/quickstart.yml").standardized.path
        let job = try YAMLConfigLoader.load(path: path)
        #expect(job.sourceType == "csv")
        #expect(job.mapping.map(\.field) == ["first_name", "last_name", "email", "employee_id", "job_title", "ssn"])
        #expect(job.mapping[2].transforms == [.trim, .lowercase])
        #expect(job.removals.action == .terminate && job.removals.maxPercent == 20)
        #expect(job.snapshot.job == "quickstart")
        #expect(job.snapshot.path.hasSuffix("examples/quickstart/.state/quickstart.snapshot"))
        #expect(job.api.clientSecret == .environment("COMPLIANCE_CLIENT_SECRET"))
        #expect(
            job.api.batchSize == 500 && job.api.importsPath == "/v1/imports" && job.api.tokenPath == "/v1/auth/token")
    }

    @Test func unknownKeysNameTheKeyAndLine() {
        let typo = error(base + "removals:\n  max_precent: 5\n")
        #expect(typo?.message == "/etc/jobs/job.yml:10: unknown key `removals.max_precent`")
        #expect(typo?.exitCode == 2)
        let top = error(base + "snapshots:\n  path: x\n")
        #expect(top?.message.contains("unknown key `snapshots`") == true)
        let field = error(base.replacingOccurrences(of: "  email: email", with: "  email: email\n  favourite_color: c"))
        #expect(field?.message.contains("`mapping.favourite_color` is not an import field") == true)
    }

    @Test func variablesExpandFromTheEnvironment() throws {
        let job = try load(
            base.replacingOccurrences(of: "people.csv", with: "${HR_DIR}/people.csv"),
            environment: ["HR_DIR": "/srv/hr"])
        #expect(try job.source.section().path("path", relativeTo: job.folder) == "/srv/hr/people.csv")
        let missing = error(base.replacingOccurrences(of: "people.csv", with: "${HR_DIR}/people.csv"))
        #expect(missing?.message.contains("uses ${HR_DIR}, which is not set") == true)
    }

    @Test func secretsAreNeverWrittenInTheFile() {
        let literal = error(base + "api:\n  client_id: x\n  client_secret: hunter2\n")
        #expect(literal?.message.contains("holds a secret") == true)
        #expect(literal?.description.contains("hunter2") == false)
        let both = error(base + "api:\n  client_secret_env: A\n  client_secret_file: /x\n")
        #expect(both?.hint == "keep one of them")
    }

    @Test func plainHTTPOnlyToLoopback() throws {
        #expect(error(base + "api:\n  base_url: http://api.example.com\n")?.message.contains("plain http://") == true)
        #expect(try load(base + "api:\n  base_url: http://[::1]:8080\n").api.baseURL.port == 8080)
        #expect(try load(base + "api:\n  base_url: https://api.example.com\n").api.baseURL.host == "api.example.com")
    }

    @Test func mappingForms() throws {
        let job = try load(
            base
                + """
                api:
                  fields:
                    known: [first_name, last_name, email, job_title, hired_at]
                """.replacingOccurrences(of: "api:", with: "api:") + "\n" + "")
        #expect(job.api.fields.known.count == 5)
        let forms = try load(
            base.replacingOccurrences(
                of: "  email: email",
                with: """
                      email: { attribute: mail, transform: [trim, { replace: { pattern: "@old\\\\.com$", with: "@new.com" } }] }
                      job_title: { template: "{title} ({dept})" }
                      cage_code: { value: 1ABC2 }
                      hired_at: { attribute: start, transform: [{ date: { from: "MM/dd/yyyy", zone: EST } }] }
                    """))
        #expect(forms.mapping.count == 6)
        #expect(forms.mappedAttributes == ["first_name", "last_name", "mail", "title", "dept", "start"])
        let badTransform = error(
            base.replacingOccurrences(of: "  email: email", with: "  email: { attribute: mail, transform: [shout] }"))
        #expect(badTransform?.message.contains("unknown transform \"shout\"") == true)
        let badDate = error(
            base.replacingOccurrences(
                of: "  email: email", with: "  email: { attribute: m, transform: [{ date: \"QQ\" }] }"))
        #expect(badDate?.message.contains("not a date format") == true)
        let badRegex = error(
            base.replacingOccurrences(
                of: "  email: email", with: "  email: { attribute: m, transform: [{ replace: { pattern: \"(\" } }] }"))
        #expect(badRegex?.message.contains("not a valid regular expression") == true)
        let noRequired = error(base.replacingOccurrences(of: "  email: email\n", with: ""))
        #expect(noRequired?.message.contains("does not map the required field `email`") == true)
    }

    @Test func ldapSettingsAreChecked() throws {
        let ldap = """
            source:
              type: ldap
              url: ldaps://dc1.example.com
              base_dn: dc=example,dc=com
              groups: [cn=staff,ou=groups,dc=example,dc=com]
            mapping:
              first_name: givenName
              last_name: sn
              email: mail

            """
        let job = try load(ldap)
        #expect(job.mappedAttributes == ["givenName", "sn", "mail"])
        #expect {
            _ = try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "t"))
        } throws: { error in
            (error as? SyncError)?.message.contains("lists the group \"cn=staff\", which is not a full DN") == true
        }
        let typo = try load(
            ldap.replacingOccurrences(
                of: "  groups: [cn=staff,ou=groups,dc=example,dc=com]\n", with: "  page_sise: 100\n"))
        #expect {
            _ = try ConnectorRegistry.builtIn.makeSource(for: typo, logger: Logger(label: "t"))
        } throws: { error in
            (error as? SyncError)?.message.contains("unknown key `source.page_sise`") == true
        }
        let http = try load(ldap.replacingOccurrences(of: "ldaps://", with: "http://"))
        #expect(throws: SyncError.self) {
            _ = try ConnectorRegistry.builtIn.makeSource(for: http, logger: Logger(label: "t"))
        }
    }

    @Test func execAndPostgresSettingsAreChecked() throws {
        #expect(try sourceError("source:\n  type: exec\n  command: python3 hr.py\n").contains("must be a list"))
        #expect(
            try sourceError("source:\n  type: exec\n  command: [python3, hr.py]\n  pass_env: [NO_SUCH_VARIABLE_X]\n")
                .contains("names NO_SUCH_VARIABLE_X, which is not set"))
        #expect(
            try sourceError("source:\n  type: exec\n  command: [python3, hr.py]\n  env: {A: 1}\n  timeout: 5\n")
                .contains("unknown key `source.timeout`"))
        #expect(
            try sourceError("source:\n  type: postgres\n  conninfo: host=db\n  id: id\n").contains(
                "`source.query` is required"))
        #expect(
            try sourceError(
                "source:\n  type: postgres\n  conninfo: host=db\n  query: SELECT 1\n  id: id\n  params: x\n"
            )
            .contains("must be a list of values"))
        #expect(
            try sourceError(
                "source:\n  type: postgres\n  conninfo: host=db\n  query: SELECT 1\n  id: id\n  sslmode: maybe\n"
            )
            .contains("must be one of disable, allow, prefer, require, verify-ca, verify-full"))
        #expect(
            try sourceError(
                "source:\n  type: postgres\n  conninfo: host=db\n  query: SELECT 1\n  id: id\n  password: x\n"
            )
            .contains("holds a secret in the config file"))
    }

    @Test func httpSettingsAreChecked() throws {
        func sourceError(_ lines: String, environment: [String: String] = [:]) throws -> String {
            try self.sourceError("source:\n  type: http\n  id: id\n" + lines, environment: environment)
        }
        let url = "  url: https://api.example.com/v1/users\n"
        #expect(try sourceError(url) == "no error")
        #expect(
            try sourceError("  url: http://api.example.com/users\n").contains(
                "plain http:// to a host that is not this machine"))
        #expect(try sourceError("  url: ftp://x/y\n").contains("must be an https:// URL"))
        #expect(
            try sourceError(url + "  headers: { Authorization: Bearer abc }\n").contains(
                "would put a secret in the job file"))
        #expect(
            try sourceError(url + "  auth: { type: bearer, token: abc }\n").contains(
                "holds a secret in the config file"))
        #expect(try sourceError(url + "  auth: { type: bearer }\n").contains("needs the token"))
        #expect(
            try sourceError(url + "  auth: { type: bearer, token_env: NO_SUCH_TOKEN_X }\n")
                .contains("NO_SUCH_TOKEN_X is not set"))
        #expect(
            try sourceError(url + "  auth: { type: api_key, key_env: K }\n", environment: ["K": "k"]).contains(
                "one of `header:` or `query:`"))
        #expect(
            try sourceError(
                url + "  auth: { type: oauth2, client_id: c, client_secret_env: K }\n", environment: ["K": "k"]
            )
            .contains("`source.auth.token_url` is required"))
        #expect(
            try sourceError(url + "  pagination: { type: scim }\n").contains(
                "`source.pagination.page_size` is required"))
        #expect(
            try sourceError(url + "  pagination: { type: cursor }\n").contains(
                "`source.pagination.cursor_path` is required"))
        #expect(try sourceError(url + "  pagination: { type: pages }\n").contains("must be one of none, offset, page"))
        #expect(try sourceError(url + "  body: { a: 1 }\n").contains("is sent only with `method: POST`"))
        #expect(try sourceError(url + "  client_key_env: K\n", environment: ["K": "k"]).contains("go together"))
        #expect(try sourceError(url + "  page_size: 10\n").contains("unknown key `source.page_size`"))
    }

    /// The secrets a job's command gave answer for that job only: a job read after it, in the same
    /// process, without a secrets command of its own, gets none of them.
    @Test func oneJobsStoreSecretsNeverAnswerForTheNextJob() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let helper = folder.appendingPathComponent("helper.py").path
        try "import json, sys\njson.load(sys.stdin)\nprint(json.dumps({'one-job/secret': {'value': 's3cret-One'}}))\n"
            .write(toFile: helper, atomically: true, encoding: .utf8)
        let first = try load(
            base + "api:\n  client_secret_secret: one-job/secret\nsecrets:\n  command: [/usr/bin/python3, \(helper)]\n")
        #expect(first.api.clientSecret == .store("one-job/secret"))
        let next = try load(base + "api:\n  client_secret_secret: one-job/secret\n")
        let refused = #expect(throws: SyncError.self) { try next.api.clientSecret?.resolve() }
        #expect(refused?.message.contains("no secrets command gave it") == true, "\(String(describing: refused))")
    }

    @Test func yamlSyntaxAndDuplicates() {
        #expect(error("source: [unclosed\n")?.message.contains("not valid YAML") == true)
        let twice = error(base + "removals:\n  action: terminate\n  action: report\n")?.message ?? ""
        #expect(twice.contains("'action'") || twice.contains("`action` appears twice"))
        #expect(
            error(base + "removals:\n  action: delete\n")?.message.contains("must be one of terminate, report") == true)
        #expect(error(base + "removals:\n  grace: 3 days\n")?.message.contains("duration") == true)
    }

    @Test func anUnsetPassEnvVariableSaysWhereToSetIt() throws {
        let job = try load(
            base.replacingOccurrences(
                of: "  type: csv\n  path: people.csv\n",
                with: "  type: exec\n  command: [python3, hr.py]\n  pass_env: [HR_TOKEN_NOT_SET_ANYWHERE]\n"))
        #expect {
            _ = try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "test"))
        } throws: { error in
            let error = error as? SyncError
            return error?.message.contains("names HR_TOKEN_NOT_SET_ANYWHERE, which is not set") == true
                && error?.hint?.contains("EnvironmentFile=") == true
        }
    }

    /// `sources:` names the primary and how each other source joins; every misuse names its key and line.
    @Test func joinedSourcesAreReadAndTheirMisusesNamed() throws {
        let mapping = """
            mapping:
              first_name: hr.first_name
              last_name: last_name
              email: { coalesce: [ad.mail, hr.email] }

            """
        let good = """
            sources:
              hr:
                primary: true
                type: csv
                path: people.csv
                id: employee_number
              ad:
                type: csv
                path: ad.csv
                id: guid
                join: { attribute: employeeNumber, to: employee_number, case_sensitive: true }
                on_duplicate: first

            """ + mapping
        let job = try load(good)
        let join = try #require(job.join)
        #expect(join.primary.name == "hr" && job.sourceType == "csv")
        #expect(join.secondaries.map(\.name) == ["ad"])
        #expect(join.secondaries[0].caseSensitive && join.secondaries[0].firstOfDuplicates)
        #expect(
            join.attributes(of: "hr", mapped: job.mappedAttributes) == [
                "first_name", "last_name", "email", "employee_number",
            ])
        #expect(join.attributes(of: "ad", mapped: job.mappedAttributes) == ["mail", "employeeNumber"])
        let source = try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "test"))
        #expect(source.description.contains("(hr) + "), "\(source.description)")

        let cases: [(String, String)] = [
            (
                good.replacingOccurrences(
                    of: "    join: { attribute: employeeNumber, to: employee_number, case_sensitive: true }\n", with: ""
                ),
                "`sources.ad` needs `join:`"
            ),
            (
                good.replacingOccurrences(of: "    on_duplicate: first", with: "    primary: true"),
                "a second primary source"
            ),
            (
                good.replacingOccurrences(of: "    primary: true\n", with: ""),
                "`sources.hr` needs `join:` (or `primary: true`)"
            ),
            (good.replacingOccurrences(of: "to: employee_number, ", with: ""), "`sources.ad.join.to` is required"),
            (
                good.replacingOccurrences(of: "on_duplicate: first", with: "on_duplicate: last"),
                "must be one of invalid, first"
            ),
            (base + good.replacingOccurrences(of: mapping, with: ""), "beside `source:`"),
        ]
        for (yaml, expected) in cases {
            let found = error(yaml)
            #expect(found?.message.contains(expected) == true, "\(expected): \(found?.message ?? "no error")")
            #expect(found?.message.contains("job.yml:") == true, "names the line: \(found?.message ?? "")")
        }
    }

    /// A change feed on a member of `sources:` would never be used (a join reads every member whole): an
    /// error naming the member, not a setting quietly ignored.
    @Test func aChangeFeedInAJoinIsAnError() throws {
        let job = try load(
            """
            sources:
              hr:
                primary: true
                type: csv
                path: people.csv
                id: employee_number
              ad:
                type: ldap
                url: ldaps://dc1.example.com
                base_dn: DC=example,DC=com
                id: objectGUID
                changes: dirsync
                join: { attribute: employeeID, to: employee_number }
            mapping:
              first_name: hr.first_name
              last_name: last_name
              email: ad.mail

            """)
        #expect {
            try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains("`sources.ad`") && "\(error)".contains("reads changes (dirsync)")
        }
    }
}

@Suite struct SafetyConfigTests {
    func source(_ yaml: String) -> String {
        let text = """
            source:
            \(yaml)
            mapping:
              first_name: givenName
              last_name: sn
              email: mail

            """
        do {
            let job = try JobConfiguration(
                root: try YAMLConfigLoader.parse(text, file: "/etc/jobs/job.yml", environment: ["BIND_PW": "hunter2"]),
                file: "/etc/jobs/job.yml")
            _ = try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "test"))
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func aPasswordIsNeverBoundInClearTextOffThisHost() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("bind-\(UUID())").path
        try "hunter2".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let ldap =
            "  type: ldap\n  base_dn: dc=example,dc=com\n  bind_dn: cn=sync,dc=example,dc=com\n  bind_password_file: \(secret)\n"
        let refused = source(ldap + "  url: ldap://dc1.example.com\n")
        #expect(refused.contains("would send the bind password in clear text to ldap://dc1.example.com"), "\(refused)")
        #expect(refused.contains("ldaps://") && !refused.contains("hunter2"))
        #expect(
            source(ldap + "  url: [ldaps://dc1.example.com, ldap://dc2.example.com:389]\n").contains(
                "ldap://dc2.example.com:389"))
        #expect(source(ldap + "  url: ldap://dc1.example.com\n  start_tls: true\n") == "accepted")
        #expect(source(ldap + "  url: ldaps://dc1.example.com\n") == "accepted")
        #expect(source(ldap + "  url: ldap://127.0.0.1:3890\n") == "accepted")
        #expect(source(ldap + "  url: ldap://[::1]:3890\n") == "accepted")
        #expect(source(ldap + "  url: ldap://dc1.example.com\n  allow_plaintext_bind: true\n") == "accepted")
        #expect(
            source("  type: ldap\n  base_dn: dc=example,dc=com\n  url: ldap://dc1.example.com\n") == "accepted",
            "an anonymous bind sends no password")
    }

    /// A Kerberos bind is `bind: { mechanism: gssapi, … }`, alone: no DN or password beside it, no
    /// principal without a keytab (it would name nobody), and no other mechanism under that key.
    @Test func aKerberosBindIsWrittenOneWay() throws {
        let ldap = "  type: ldap\n  base_dn: dc=example,dc=com\n  url: ldap://dc1.example.com\n"
        #expect(source(ldap + "  bind: { mechanism: gssapi, keytab: /etc/sync.keytab }\n") == "accepted")
        #expect(source(ldap + "  bind: { mechanism: gssapi }\n") == "accepted", "the user's own tickets")
        #expect(source(ldap + "  bind: { mechanism: simple }\n").contains("must be one of gssapi"))
        #expect(source(ldap + "  bind: { keytab: /k }\n").contains("needs `mechanism: gssapi`"))
        #expect(source(ldap + "  bind: { mechanism: gssapi, principal: a@B }\n").contains("no keytab"))
        #expect(source(ldap + "  bind: { mechanism: gssapi, keytab: /k, realm: B }\n").contains("source.bind.realm"))
        #expect(
            source(ldap + "  bind_dn: cn=x,dc=example,dc=com\n  bind: { mechanism: gssapi, keytab: /k }\n")
                .contains("bind_dn is set too"))
    }

    @Test func guardsAndLimitsAreSettings() throws {
        let text = """
            source:
              type: csv
              path: people.csv
              id: employee_number
              min_records: 900
              max_record_bytes: 65536
              settle_seconds: 120
            mapping:
              first_name: first_name
              last_name: last_name
              email: email
            guards:
              max_cleared_percent: 5
              max_cleared_count: 40
            api:
              max_retry_after: 2m

            """
        let job = try JobConfiguration(
            root: try YAMLConfigLoader.parse(text, file: "/etc/jobs/job.yml", environment: [:]),
            file: "/etc/jobs/job.yml")
        #expect(job.guards.minRecords == 900 && job.guards.maxClearedPercent == 5 && job.guards.maxClearedCount == 40)
        #expect(job.api.maxRetryAfter == .seconds(120))
        _ = try ConnectorRegistry.builtIn.makeSource(for: job, logger: Logger(label: "test"))
        #expect(source("  type: csv\n  path: p.csv\n  id: id\n  max_record_bytes: 10\n").contains("max_record_bytes"))
        #expect(
            source("  type: ldap\n  url: ldaps://x\n  base_dn: dc=x\n  settle_seconds: 5\n").contains(
                "unknown key `source.settle_seconds`"))
    }
}

/// Seeded random job files: loaded, or a configuration error naming where; never a trap.
@Suite struct ConfigFuzzTests {
    @Test func configFilesNeverCrash() throws {
        let quickstart = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/quickstart/quickstart.yml").standardized
        let corpus = [
            Array(try Data(contentsOf: quickstart)),
            Array(
                """
                source: { type: csv, path: p.csv, id: id, min_records: 5 }
                mapping:
                  first_name: { template: "{a} {b}", transform: [trim, { date: { format: unix } }] }
                  last_name: b
                  email: { attribute: e, transform: [first, lowercase, { default: x@y.z }] }
                removals: { grace: 999999999999999999d, max_percent: 101 }
                guards: { max_cleared_count: -1 }
                snapshot: { type: postgres, conninfo: "host=x", key_file: k }
                api: { base_url: "http://10.0.0.1", batch_size: 0, max_retry_after: 1e9s }
                """.utf8),
            Array("a: &x [1, *x]\nb: !!binary AAAA\nc: ${NOPE}\n".utf8),
            // Found by this test: a mapping or a template written as null trapped.
            Array(
                "source: { type: csv, path: p, id: i }\nmapping:\n  first_name:\n  last_name: { template: }\n  email: e\n"
                    .utf8),
        ]
        for found in ["  first_name:\n", "  first_name: { template: }\n"] {
            let text = "source: { type: csv, path: p, id: i }\nmapping:\n" + found + "  last_name: l\n  email: e\n"
            #expect(throws: SyncError.self) {
                _ = try JobConfiguration(
                    root: try YAMLConfigLoader.parse(text, file: "j.yml", environment: [:]), file: "j.yml")
            }
        }
        var fuzzer = Fuzzer(seed: 41)
        for _ in 0..<Fuzzer.iterations(1500) {
            let text = String(decoding: fuzzer.input(from: corpus), as: UTF8.self)
            do {
                let root = try YAMLConfigLoader.parse(
                    text, file: "/etc/jobs/job.yml", environment: ["COMPLIANCE_CLIENT_SECRET": "x"])
                _ = try JobConfiguration(root: root, file: "/etc/jobs/job.yml")
            } catch let error as SyncError {
                #expect(error.kind == .configuration, "\(error)")
                #expect(error.message.contains("job.yml") || error.message.contains("`"), "\(error.message)")
            }
        }
    }
}
