import SyncCore

/// How sensitive values appear in every output: never as themselves.
public enum Masking {
    /// The mask shown for a sensitive field's value.
    public static func mask(field: String, catalog: FieldCatalog) -> String {
        if catalog.ssn.contains(field) { return "***-**-****" }
        if catalog.date.contains(field) { return "****-**-**" }
        return "[masked]"
    }

    /// A row's present fields as they may be shown: sensitive ones masked.
    public static func shown(_ values: [String?], layout: RowLayout) -> [(field: String, value: String)] {
        values.indices.compactMap { i in
            guard let value = values[i] else { return nil }
            let field = layout.fields[i]
            return (field, layout.sensitive[i] ? mask(field: field, catalog: layout.catalog) : value)
        }
    }

    /// Stored fields as they may be shown: digests of sensitive ones masked.
    public static func shown(stored fields: [String: String], catalog: FieldCatalog) -> [(field: String, value: String)]
    {
        fields.keys.sorted().map { field in
            (field, catalog.sensitive.contains(field) ? mask(field: field, catalog: catalog) : fields[field]!)
        }
    }
}
