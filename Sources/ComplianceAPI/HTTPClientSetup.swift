import AsyncHTTPClient
import JobConfig
import NIOSSL
import SyncCore

/// How every HTTP client of a job is set up: the API's and each webhook's.
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
}
