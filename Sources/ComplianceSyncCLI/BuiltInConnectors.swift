import ConnectorCore
import ExecConnector
import FileConnector
import HTTPConnector
import LDAPConnector
import PostgresConnector
import SyncCore

extension ConnectorRegistry {
    /// The connectors that ship with compliance-sync.
    public static var builtIn: ConnectorRegistry {
        ConnectorRegistry([
            CSVSource.self, JSONLinesConnector.self, JSONArrayConnector.self, LDAPSource.self, PostgresSource.self,
            ExecSource.self, HTTPSource.self,
        ])
    }

    /// The registry with `connectors` added, each replacing any of the same type:
    /// `ComplianceSyncCommand.main(connectors: .builtIn + [WorkdaySource.self])`.
    public static func + (registry: ConnectorRegistry, connectors: [any SourceConnector.Type]) -> ConnectorRegistry {
        var result = registry
        for connector in connectors { result.register(connector) }
        return result
    }
}
