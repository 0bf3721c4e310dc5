import Foundation

/// The small JSON answers of compliance-api.md, decoded into types rather than read
/// through `[String: Any]` casts. (An import's status, whose reading must fail closed
/// field by field, is read by ``ComplianceAPIClient/completedOutcome(_:)``.)
enum WireReply {
    /// `POST /v1/auth/token`, 200.
    struct Token: Decodable {
        var accessToken: String
        var expiresIn: Double
        var refreshToken: String?
        var refreshTokenExpiresIn: Double?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case expiresIn = "expires_in"
            case refreshToken = "refresh_token"
            case refreshTokenExpiresIn = "refresh_token_expires_in"
        }
    }

    /// `POST /v1/imports`, 200 or 202: the import's id, a string or a number.
    struct Submitted: Decodable {
        var id: String

        enum CodingKeys: String, CodingKey { case id }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? container.decode(String.self, forKey: .id) {
                id = text
            } else {
                id = String(try container.decode(Int.self, forKey: .id))
            }
        }
    }

    /// Any error answer: `{"error": "…", "message": "…"}`, both optional.
    struct Problem: Decodable {
        var error: String?
        var message: String?
    }

    /// `body` decoded as `T`, or `nil` when it is not that.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(body))
    }
}
