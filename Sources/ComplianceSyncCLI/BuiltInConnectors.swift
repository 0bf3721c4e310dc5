import ExecConnector
import FileConnector
import LDAPConnector
import PostgresConnector
import SyncCore

extension ConnectorRegistry {
    /// The connectors that ship with compliance-sync.
    public static var builtIn: ConnectorRegistry {
        ConnectorRegistry([
            CSVSource.self, JSONLinesConnector.self, JSONArrayConnector.self, LDAPSource.self, PostgresSource.self,
            ExecSource.self,
        ])
    }
}
