import ConnectorCore
import Foundation
import JobConfig
import NIOCore
import NIOPosix
import NIOSSL
import NetworkNames
import SyncCore

/// After the API's certificate is refused, looks at the certificate the server (or a
/// TLS-inspecting proxy in between) shows, connecting once more without trusting it and
/// sending nothing, so that the error can name its subject and issuer.
enum CertificateProbe {
    /// The subject and issuer common names of the certificate shown at `host:port`, reached
    /// through `proxy` if given; `nil` when there is none to see within a few seconds.
    static func names(host: String, port: Int, proxy: ProxySettings?) async -> (subject: String, issuer: String)? {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let seen = eventLoop.makePromise(of: [UInt8].self)
        let timeout = eventLoop.scheduleTask(in: .seconds(5)) { seen.fail(ChannelError.connectTimeout(.seconds(5))) }
        defer { timeout.cancel() }
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .noHostnameVerification
            let context = try NIOSSLContext(configuration: tls)
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(5))
                .connect(host: proxy?.host ?? host, port: proxy?.port ?? port).get()
            defer { channel.close(promise: nil) }
            if let proxy { try await tunnel(channel, to: host, port: port, through: proxy) }
            let serverName = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
            try await eventLoop.submit {
                let handler = try NIOSSLClientHandler(
                    context: context, serverHostname: serverName,
                    customVerificationCallback: { chain, verdict in
                        seen.completeWith(Result { try chain.first?.toDERBytes() ?? [] })
                        verdict.succeed(.failed)  // only looking: never trusted
                    })
                try channel.pipeline.syncOperations.addHandler(handler)
            }.get()
            let names = CertificateNames.commonNames(inDER: try await seen.futureResult.get())
            return names.count >= 2 ? (subject: names[1], issuer: names[0]) : nil
        } catch {
            seen.fail(error)
            return nil
        }
    }

    /// Opens a CONNECT tunnel through an HTTP proxy on a connected channel.
    private static func tunnel(_ channel: any Channel, to host: String, port: Int, through proxy: ProxySettings)
        async throws
    {
        let answered = channel.eventLoop.makePromise(of: Void.self)
        var request = "CONNECT \(host):\(port) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        if let user = proxy.user {
            let credentials = Data("\(user):\(proxy.password?.value ?? "")".utf8).base64EncodedString()
            request += "Proxy-Authorization: Basic \(credentials)\r\n"
        }
        request += "\r\n"
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(TunnelAnswer(answered: answered), name: "tunnel")
        }.get()
        try await channel.writeAndFlush(ByteBuffer(string: request))
        try await answered.futureResult.get()
        try await channel.pipeline.removeHandler(name: "tunnel")
    }

    /// Reads a proxy's answer to CONNECT: `200` opens the tunnel, anything else fails it.
    private final class TunnelAnswer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        private let answered: EventLoopPromise<Void>
        private var head = ""

        init(answered: EventLoopPromise<Void>) { self.answered = answered }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            head += bytes.readString(length: bytes.readableBytes) ?? ""
            guard head.contains("\r\n\r\n") else { return }
            let status = head.split(separator: " ", maxSplits: 2).dropFirst().first
            if status == "200" {
                answered.succeed()
            } else {
                answered.fail(ChannelError.inappropriateOperationForState)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            answered.fail(ChannelError.ioOnClosedChannel)
        }
    }
}
