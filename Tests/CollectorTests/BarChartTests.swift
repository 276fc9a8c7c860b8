import Foundation
import Testing
@testable import Collector

@Suite struct BarChartTests {
    /// Bars scale linearly to the largest value over a 520-pixel plot.
    @Test func barsAreScaledToTheLargestValue() {
        let chart = BarChart(title: "t", subtitle: "s", unit: "%", bars: [("a", 50), ("b", 100), ("c", 0)])
        let widths = chart.svg.split(separator: "\n").filter { $0.hasPrefix("<rect x=") }.compactMap { line -> Int? in
            guard let range = line.range(of: #"width="(\d+)""#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst(7).dropLast())
        }
        #expect(widths == [260, 520, 1])   // a zero bar is drawn one pixel wide
    }

    @Test func labelsAreEscaped() {
        let chart = BarChart(title: "a<b & c", subtitle: "", unit: "%", bars: [("rfc-2015[trvm=on]", 1)])
        #expect(chart.svg.contains("a&lt;b &amp; c"))
        #expect(chart.svg.contains(">rfc-2015[trvm=on]<"))
    }
}
