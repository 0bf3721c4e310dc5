import AsyncHTTPClient
import ConnectorCore
import NIOSSL
import NetworkNames

/// How every HTTP client of a job is set up: the API's, each webhook's, an HTTP source's.
public enum HTTPClientSetup {
    /// A 5-second connect timeout (an unreachable host fails in seconds); no redirect followed
    /// (a 307 would carry a request, secret and all, to another origin); a connection that fails
    /// (refused, TLS refused) fails its attempt at once, since retries are the caller's, with the
    /// backoff its log states; through `proxy` if given; trusting `caFile` besides the system's CAs.
    public static func configuration(proxy: ProxySettings?, caFile: String?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        if let proxy {
            configuration.proxy = .server(
                host: proxy.host, port: proxy.port,
                authorization: proxy.user.map { .basic(username: $0, password: proxy.password?.value ?? "") })
        }
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            configuration.tlsConfiguration = tls
        }
        return configuration
    }

    /// The same, also showing `clientCertificate` to servers that ask for one (mutual TLS).
    /// - Throws: ``SyncError`` when the certificate or its key cannot be read.
    public static func configuration(
        proxy: ProxySettings?, caFile: String?, clientCertificate: ClientCertificate
    ) throws -> HTTPClient.Configuration {
        var configuration = configuration(proxy: proxy, caFile: caFile)
        var tls = configuration.tlsConfiguration ?? TLSConfiguration.makeClientConfiguration()
        try clientCertificate.configure(&tls)
        configuration.tlsConfiguration = tls
        return configuration
    }

    /// A certificate (PEM file) and its private key, shown to a server that asks for one.
    public struct ClientCertificate: Sendable {
        /// The certificate chain's PEM file.
        public var certificateFile: String
        /// The private key, in PEM.
        public var key: Secret

        /// A certificate in `certificateFile` with `key`.
        public init(certificateFile: String, key: Secret) {
            self.certificateFile = certificateFile
            self.key = key
        }

        func configure(_ tls: inout TLSConfiguration) throws {
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
            } catch {
                throw SyncError(
                    .configuration, "cannot read a certificate from \(certificateFile)",
                    hint: "give a readable PEM file that starts with -----BEGIN CERTIFICATE-----")
            }
            guard !chain.isEmpty else {
                throw SyncError(
                    .configuration, "\(certificateFile) holds no certificate", hint: "give a PEM certificate file")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.value.utf8), format: .pem))
            } catch {
                throw SyncError(
                    .configuration, "the client certificate's key is not a PEM private key (nothing of it is shown)",
                    hint:
                        "give the unencrypted PEM key (-----BEGIN PRIVATE KEY-----) that belongs to \(certificateFile)")
            }
            tls.certificateChain = chain.map { .certificate($0) }
        }
    }
}
