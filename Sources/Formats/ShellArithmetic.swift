/// The values unittests.cfg gives `smp`: a number, `$MAX_SMP`, or shell arithmetic over them
/// such as `$((($MAX_SMP < 8)?$MAX_SMP:8))`. Integers, `+ - * /`, comparisons, `?:` and
/// parentheses: what the cfg files use, nothing the shell would run.
enum ShellArithmetic {
    static func evaluate(_ text: String, maxSMP: Int) -> Int? {
        var body = Substring(text)
        if body.hasPrefix("$(("), body.hasSuffix("))") { body = body.dropFirst(3).dropLast(2) }
        var parser = Parser(tokens: tokens(body), maxSMP: maxSMP)
        guard let value = parser.ternary(), parser.position == parser.tokens.count else { return nil }
        return value
    }

    static func tokens(_ text: Substring) -> [String] {
        var tokens: [String] = []
        var rest = text
        while let c = rest.first {
            if c == " " { rest = rest.dropFirst(); continue }
            let word = rest.prefix { $0.isNumber || $0.isLetter || $0 == "_" || $0 == "$" }
            let pair = rest.prefix(2)
            let token = !word.isEmpty ? word : ["<=", ">=", "==", "!="].contains(pair) ? pair : rest.prefix(1)
            tokens.append(String(token))
            rest = rest.dropFirst(token.count)
        }
        return tokens
    }

    struct Parser {
        let tokens: [String]
        let maxSMP: Int
        var position = 0

        mutating func take(_ options: [String]) -> String? {
            guard position < tokens.count, options.contains(tokens[position]) else { return nil }
            position += 1
            return tokens[position - 1]
        }

        mutating func ternary() -> Int? {
            guard let condition = comparison() else { return nil }
            guard take(["?"]) != nil else { return condition }
            guard let yes = ternary(), take([":"]) != nil, let no = ternary() else { return nil }
            return condition != 0 ? yes : no
        }

        mutating func comparison() -> Int? {
            guard var left = sum() else { return nil }
            while let op = take(["<", ">", "<=", ">=", "==", "!="]) {
                guard let right = sum() else { return nil }
                let holds = switch op {
                case "<": left < right
                case ">": left > right
                case "<=": left <= right
                case ">=": left >= right
                case "==": left == right
                default: left != right
                }
                left = holds ? 1 : 0
            }
            return left
        }

        mutating func sum() -> Int? {
            guard var left = product() else { return nil }
            while let op = take(["+", "-"]) {
                guard let right = product() else { return nil }
                left = op == "+" ? left &+ right : left &- right
            }
            return left
        }

        mutating func product() -> Int? {
            guard var left = primary() else { return nil }
            while let op = take(["*", "/"]) {
                guard let right = primary(), op == "*" || right != 0 else { return nil }
                left = op == "*" ? left &* right : left.dividedReportingOverflow(by: right).partialValue
            }
            return left
        }

        mutating func primary() -> Int? {
            if take(["("]) != nil {
                guard let value = ternary(), take([")"]) != nil else { return nil }
                return value
            }
            guard position < tokens.count else { return nil }
            let token = tokens[position]
            position += 1
            if token == "$MAX_SMP" || token == "MAX_SMP" { return maxSMP }
            return Int(token)
        }
    }
}
