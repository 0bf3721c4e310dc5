import Foundation
import TestSupport
import Testing
import Yams

/// examples/kubernetes: valid against the Kubernetes API's schemas (kubernetes-validate from
/// PyPI, strict, for the oldest and newest version the example claims), and holding together
/// with the image scripts/image builds and the job file it carries: what the schemas cannot see.
@Suite struct KubernetesExampleTests {
    static let folder = repositoryRoot.appendingPathComponent("examples/kubernetes")

    static func manifest(_ name: String) throws -> [String: Any] {
        let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    /// Strict: an unknown field fails, not only a wrong type. 1.29 is the oldest version whose
    /// schema takes the CronJob as written (`timeZone`, `podFailurePolicy`).
    @Test(.enabled(if: TestServers.kubernetesValidate, Comment(rawValue: TestServers.why)))
    func theManifestsMatchTheKubernetesSchemas() async throws {
        let validate = repositoryRoot.appendingPathComponent(".build-k8s/venv/bin/kubernetes-validate").path
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".yaml") && $0 != "kustomization.yaml" }.sorted()
        #expect(files.count == 6, "\(files)")
        // The checker does fail: a misspelt field is refused.
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("cronjob-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: broken) }
        try String(contentsOf: Self.folder.appendingPathComponent("cronjob.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "concurrencyPolicy:", with: "concurrencyPolicies:")
            .write(to: broken, atomically: true, encoding: .utf8)
        for version in ["1.29", "1.37"] {
            let result = try await runProcess(
                validate,
                ["--strict", "--quiet", "-k", version] + files.map { Self.folder.appendingPathComponent($0).path })
            #expect(result.status == 0, "\(version): \(result.all)")
            let refused = try await runProcess(validate, ["--strict", "--quiet", "-k", version, broken.path])
            #expect(refused.status != 0 && refused.all.contains("concurrencyPolicies"), "\(version): \(refused.all)")
        }
    }

    @Test func theCronJobRunsOneSyncAtATimeAsTheImagesUserWithNothingWritableButItsState() throws {
        let cronJob = try Self.manifest("cronjob.yaml")
        let spec = try #require(cronJob["spec"] as? [String: Any])
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        #expect((spec["startingDeadlineSeconds"] as? Int ?? 0) > 0)
        let job = try #require((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
        let pod = try #require((job["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        #expect(pod["automountServiceAccountToken"] as? Bool == false)
        let podSecurity = try #require(pod["securityContext"] as? [String: Any])
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        // The image's user, by number, as scripts/image writes it.
        let imageScript = try String(
            contentsOf: repositoryRoot.appendingPathComponent("scripts/image"), encoding: .utf8)
        let user = try #require(podSecurity["runAsUser"] as? Int)
        #expect(imageScript.contains("--config.user \(user):\(podSecurity["runAsGroup"] as? Int ?? -1)"))
        #expect(podSecurity["fsGroup"] as? Int == podSecurity["runAsGroup"] as? Int)

        let containers = try #require(pod["containers"] as? [[String: Any]])
        #expect(containers.count == 1)
        let container = containers[0]
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect((security["capabilities"] as? [String: Any])?["drop"] as? [String] == ["ALL"])

        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        #expect(mounts.allSatisfy { $0["subPath"] == nil && $0["subPathExpr"] == nil }, "subPath never refreshes")
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        func volume(at path: String) -> [String: Any]? {
            guard let name = mounts.first(where: { $0["mountPath"] as? String == path })?["name"] as? String else {
                return nil
            }
            return volumes.first { $0["name"] as? String == name }
        }
        let secretName = try #require((try Self.manifest("secret.example.yaml")["metadata"] as? [String: Any])?["name"])
        #expect(
            (volume(at: "/var/run/secrets/compliance-sync")?["secret"] as? [String: Any])?["secretName"] as? String
                == secretName as? String)
        let claim = try #require((try Self.manifest("state-volume.yaml")["metadata"] as? [String: Any])?["name"])
        #expect(
            (volume(at: "/var/lib/compliance-sync")?["persistentVolumeClaim"] as? [String: Any])?["claimName"]
                as? String == claim as? String)
        #expect(imageScript.contains("STATE_DIRECTORY=/var/lib/compliance-sync"), "the state volume is the default")
        #expect(volume(at: "/tmp")?["emptyDir"] != nil)
        // Everything writable is a volume; the job and the secrets are read-only.
        for path in ["/etc/compliance-sync", "/var/run/secrets/compliance-sync"] {
            #expect(mounts.first { $0["mountPath"] as? String == path }?["readOnly"] as? Bool == true, "\(path)")
        }

        // Skipped for the lock is success; a guard, a bad job or rejected rows fail the Job at once.
        let args = try #require(container["args"] as? [String])
        let skipped = try #require(args.firstIndex(of: "--skipped-exit-status"))
        #expect(args[skipped + 1] == "0")
        let rules = try #require((job["podFailurePolicy"] as? [String: Any])?["rules"] as? [[String: Any]])
        let failJob = rules.filter { $0["action"] as? String == "FailJob" }
            .flatMap { ($0["onExitCodes"] as? [String: Any])?["values"] as? [Int] ?? [] }
        #expect(Set(failJob) == [2, 3, 4])
        let resources = try #require(
            (try Self.manifest("kustomization.yaml"))["resources"] as? [String])
        #expect(!resources.contains("secret.example.yaml"), "apply -k never writes placeholders over the Secret")
        for resource in resources {
            #expect(FileManager.default.fileExists(atPath: Self.folder.appendingPathComponent(resource).path))
        }
    }

    /// The ConfigMap's job, run with the CronJob's arguments by this build: the arguments parse, the
    /// job loads, and the first thing it misses is the mounted secret, named by its path.
    @Test func theConfigMapsJobRunsWithTheCronJobsArguments() async throws {
        let configMap = try Self.manifest("configmap.yaml")
        let data = try #require(configMap["data"] as? [String: String])
        let cronJob = try Self.manifest("cronjob.yaml")
        let container = try #require(
            ((((cronJob["spec"] as? [String: Any])?["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])?[
                "template"] as? [String: Any]).flatMap {
                    ($0["spec"] as? [String: Any])?["containers"] as? [[String: Any]]
                }?
                .first)
        var args = try #require(container["args"] as? [String])
        let config = try #require(args.firstIndex(of: "--config"))
        let jobPath = args[config + 1]
        #expect(jobPath.hasPrefix("/etc/compliance-sync/"))
        let key = String(jobPath.dropFirst("/etc/compliance-sync/".count))
        let text = try #require(data[key], "the ConfigMap holds \(key)")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try text.write(to: folder.appendingPathComponent(key), atomically: true, encoding: .utf8)
        args[config + 1] = folder.appendingPathComponent(key).path
        let run = try await runCLI(args, environment: ["STATE_DIRECTORY": folder.path])
        #expect(run.status == 2, "\(run.all)")
        #expect(run.stderr.contains("cannot read the secret file /var/run/secrets/compliance-sync/"), "\(run.all)")
        #expect(run.stderr.contains("\"level\""), "--log-format json: \(run.all)")
        for path in text.matches(of: /\/[\w\/.-]+/).map({ String($0.output) }) where path.hasPrefix("/var/run") {
            #expect(path.hasPrefix("/var/run/secrets/compliance-sync/"), "a file the job reads is in the Secret")
        }
    }
}
