/// Text made safe to put in HTML, for the pages `plan` and `history` write.
enum HTMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` written as entities.
    static func escaped(_ text: String) -> String {
        guard text.contains(where: { "&<>\"'".contains($0) }) else { return text }
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// The page's head and opening, with the styles both pages share; no script, font or style from elsewhere.
    static func opening(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escaped(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1a1a1a}
        h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
        table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}.old{color:#a00;text-decoration:line-through}.new{color:#060}
        .stopped{background:#fde8e8;border:1px solid #c00;padding:1em}.ok{background:#e8f6e8;border:1px solid #080;padding:1em}
        .counts td,td.n{text-align:right}code{font-family:ui-monospace,monospace}
        </style></head><body>

        """
    }
}
