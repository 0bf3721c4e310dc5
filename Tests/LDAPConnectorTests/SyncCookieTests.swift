import Foundation
import Testing

@testable import LDAPConnector

/// syncprov's cookies as the syncrepl feed reads them: CSNs by server id, anything else unreadable.
@Suite struct SyncCookieTests {
    func csns(_ text: String) -> [String: String]? { LDAPSource.csns(of: Data(text.utf8)) }

    @Test func csnsByServerID() {
        let one = "20261206194227.273500Z#000000#000#000000"
        #expect(csns("rid=000,csn=\(one)") == ["000": one])
        let two = "20261206194228.000001Z#000002#001#000000"
        #expect(csns("rid=001,sid=002,csn=\(one);\(two)") == ["000": one, "001": two])
        #expect(one < two, "fixed-width CSNs compare as text")
    }

    @Test func anythingElseIsUnreadable() {
        for text in [
            "", "rid=000", "rid=000,csn=", "rid=000,csn=garbage", "rid=000,csn=20261206194227.273500Z#000000#000",
            "rid=000,csn=2026120619422.273500Z#000000#000#000000",
            "rid=000,csn=20261206194227.273500Z#00000g#000#000000",
        ] {
            #expect(csns(text) == nil, "\(text)")
        }
    }

    @Test func uuidsAreWrittenAsEntryUUIDIs() {
        let bytes = Data((0..<16).map { UInt8($0) })
        #expect(LDAPSource.uuidString(bytes) == "00010203-0405-0607-0809-0a0b0c0d0e0f")
    }
}
