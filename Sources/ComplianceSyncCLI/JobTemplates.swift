/// The job files `compliance-sync init` writes: what most jobs need, and the rest commented out.
/// Every one loads as it is written (a test checks), given the variables it names.
enum JobTemplates {
    static func text(for kind: InitCommand.Kind) -> String {
        let (title, source, mapping) =
            switch kind {
            case .csv: ("a CSV export from HR", csv, fileMapping)
            case .ldap: ("an OpenLDAP directory", ldap, directoryMapping(employeeID: "employeeNumber"))
            case .ad: ("Active Directory", activeDirectory, directoryMapping(employeeID: "employeeID"))
            case .postgres: ("a PostgreSQL HR database", postgres, databaseMapping)
            case .http: ("an HR system's or a cloud directory's API (here SCIM 2.0)", http, scimMapping)
            case .exec: ("a program of your own (the exec protocol)", exec, fileMapping)
            }
        return header(title) + api + source + mapping + rest
    }

    static func header(_ title: String) -> String {
        """
        # A compliance-sync job: people from \(title), kept in step in Compliance.
        # Edit what is marked, then:  compliance-sync validate --config THIS-FILE
        #                             compliance-sync plan --config THIS-FILE
        # Every setting: docs/configuration.md. ${VAR} is read from the environment.

        """
    }

    static let api = """
        # The Compliance API: client credentials from Administration > Integrations, for a user
        # with the Imports and API Access rights. The secret is never written here.
        api:
          base_url: https://api.threatswitch.com
          client_id: ${COMPLIANCE_CLIENT_ID}
          client_secret_file: /etc/compliance-sync/client-secret   # or client_secret_env: VARIABLE
          # proxy: http://proxy.example.com:3128
          # ca_file: /etc/ssl/certs/corporate-ca.pem

        """

    static let csv = """
        source:
          type: csv
          path: people.csv                # relative to this file's folder
          id: employee_number             # the column that identifies a person
          # delimiter: ","
          # settle_seconds: 60            # refuse a file changed less than a minute ago (still being written)
          # min_records: 100              # fewer records than this stops the run

        """

    static let ldap = """
        source:
          type: ldap
          url: ldaps://ldap.example.com   # or a list, tried in order
          # ca_file: /etc/ssl/certs/example-ca.pem
          bind_dn: cn=compliance-sync,ou=services,dc=example,dc=com
          bind_password_file: /etc/compliance-sync/ldap-password
          base_dn: ou=people,dc=example,dc=com
          filter: (&(objectClass=inetOrgPerson)(employeeNumber=*))
          id: entryUUID                   # stable across renames and moves
          # page_size: 500
          # groups:                       # only members of these groups (one DN a line)
          #   - cn=cleared-staff,ou=groups,dc=example,dc=com
          # group_membership: member      # without the memberof overlay
          # changes: syncrepl             # read only what changed (needs syncprov): docs/configuration.md
          # min_records: 100

        """

    static let activeDirectory = """
        source:
          type: ldap
          url: ldaps://dc1.corp.example.com   # or a list of DCs, tried in order
          # ca_file: /etc/ssl/certs/corp-root-ca.pem
          bind_dn: CN=svc-compliance-sync,OU=Service Accounts,DC=corp,DC=example,DC=com
          bind_password_file: /etc/compliance-sync/ad-password
          # Or Kerberos with a keytab, no password (instead of bind_dn and its password):
          # bind: { mechanism: gssapi, keytab: /etc/compliance-sync/sync.keytab }
          base_dn: OU=Staff,DC=corp,DC=example,DC=com
          filter: (&(objectCategory=person)(objectClass=user)(employeeID=*))
          id: objectGUID                  # stable across renames and moves
          page_size: 1000                 # AD's MaxPageSize
          exclude_disabled: true          # disabled accounts count as gone
          # groups:                       # only members of these groups (one DN a line)
          #   - CN=Cleared Personnel,OU=Groups,DC=corp,DC=example,DC=com
          # nested_groups: 3
          # changes: dirsync              # read only what changed: docs/active-directory.md
          # min_records: 100

        """

    static let postgres = """
        source:
          type: postgres
          conninfo: host=hr-db.example.com dbname=hr user=compliance_reader
          password_file: /etc/compliance-sync/hr-db-password   # or password_env, or ~/.pgpass
          # sslmode: verify-full          # the default for a server on another host
          # sslrootcert: /etc/ssl/certs/hr-db-ca.pem
          id: employee_id
          query: |
            SELECT employee_id, given_name, family_name, work_email, title
            FROM hr.employees
            WHERE status = 'active'
          # statement_timeout_seconds: 120
          # min_records: 100

        """

    static let http = """
        # For Workday, BambooHR, HiBob, Personio, Microsoft Graph or Google Workspace, start from
        # the job files in examples/http instead. Every setting: docs/http-source.md.
        source:
          type: http
          url: https://scim.example.com/scim/v2/Users
          auth: { type: bearer, token_env: SCIM_TOKEN }
          # auth:                         # OAuth 2.0 client credentials instead:
          #   type: oauth2
          #   token_url: https://login.example.com/oauth2/token
          #   client_id: your-client-id
          #   client_secret_env: HR_CLIENT_SECRET
          pagination: { type: scim, page_size: 100 }
          records: Resources              # where the list is in each page
          id: id
          exclude: { attribute: active, equals: "false" }
          # ca_file: /etc/ssl/certs/private-ca.pem
          # min_records: 100

        """

    static let exec = """
        # The program prints people as JSON Lines: docs/writing-a-connector.md.
        source:
          type: exec
          command: [python3, connector.py]   # no shell; run in this file's folder
          # env: { HR_API_URL: https://hr.example.com }
          # pass_env: [HR_API_TOKEN]         # secrets, from this environment
          # timeout_seconds: 600
          require_end: true                  # the program's last line says how many it printed
          # min_records: 100

        """

    static let fileMapping = """
        # Import field: the source's column (or attribute), with transforms when needed.
        mapping:
          first_name: first_name
          last_name: last_name
          email: { attribute: email, transform: [trim, lowercase] }
          employee_id: employee_number
          # job_title: { attribute: title, optional: true }
          # ssn: ssn                      # masked in output, hashed in the snapshot

        """

    static func directoryMapping(employeeID: String) -> String {
        """
        mapping:
          first_name: givenName
          last_name: sn
          email: { attribute: mail, transform: [first, trim, lowercase] }
          employee_id: \(employeeID)
          # job_title: { attribute: title, optional: true }

        """
    }

    static let databaseMapping = """
        mapping:
          first_name: given_name
          last_name: family_name
          email: { attribute: work_email, transform: [trim, lowercase] }
          employee_id: employee_id
          # job_title: { attribute: title, optional: true }

        """

    static let scimMapping = """
        mapping:
          first_name: name.givenName
          last_name: name.familyName
          email: { attribute: userName, transform: [trim, lowercase] }
          employee_id: externalId
          # job_title: { attribute: title, optional: true }

        """

    static let rest = """
        # People who leave the source are terminated in Compliance (never deleted), after a grace
        # period, and never more than max_percent of everyone in one run without --approve.
        removals:
          action: terminate
          max_percent: 5
          grace: 72h
        # snapshot:                       # where the last successful sync is remembered
        #   path: /var/lib/compliance-sync/job.snapshot
        # guards:
        #   max_cleared_percent: 10

        """
}
