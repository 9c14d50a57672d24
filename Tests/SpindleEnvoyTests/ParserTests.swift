import SpindleTestSupport
@testable import SpindleEnvoy
import Testing

@Suite("envoy: command line parsing")
struct ParserTests {
    @Test(arguments: [
        ("echo hi", [["echo", "hi"]]),
        ("  echo   hi  ", [["echo", "hi"]]),
        ("cat data | grep x | wc -l", [["cat", "data"], ["grep", "x"], ["wc", "-l"]]),
        ("echo 'test'|wc -l", [["echo", "test"], ["wc", "-l"]]),
        ("echo 'a | b'", [["echo", "a | b"]]),
        (#"echo "a \"quoted\" \$word \\ \x""#, [["echo", #"a "quoted" $word \ \x"#]]),
        (#"echo 'it''s' "" ''"#, [["echo", "its", "", ""]]),
        (#"echo a\ b \| c"#, [["echo", "a b", "|", "c"]]),
        ("printf 'x\\ny'", [["printf", "x\\ny"]]),
        ("echo h\u{E9}llo \u{2713}", [["echo", "h\u{E9}llo", "\u{2713}"]]),
        ("echo one\\\ntwo", [["echo", "onetwo"]]),
    ])
    func splits(line: String, expected: [[String]]) throws {
        #expect(try CommandLineParser.split(line) == expected)
    }

    @Test func badLinesNameWhatIsWrong() {
        #expect(throws: EnvoyError.unclosedQuote(quote: "'", column: 6)) { try CommandLineParser.split("echo 'abc") }
        #expect(throws: EnvoyError.unclosedQuote(quote: "\"", column: 8)) { try CommandLineParser.split("echo a \"b") }
        #expect(throws: EnvoyError.emptyStage(column: 4)) { try CommandLineParser.split("a || b") }
        #expect(throws: EnvoyError.emptyStage(column: 1)) { try CommandLineParser.split("| b") }
        #expect(throws: EnvoyError.emptyStage(column: 3)) { try CommandLineParser.split("a |") }
        #expect(throws: EnvoyError.emptyCommand) { try CommandLineParser.split("   ") }
        #expect(throws: EnvoyError.danglingEscape(column: 6)) { try CommandLineParser.split("echo \\") }
        #expect(EnvoyError.unclosedQuote(quote: "'", column: 6).description == "unclosed quote (') opened at column 6")
    }
}
